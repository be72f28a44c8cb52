package dev.kappabeam.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.ObjectOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JdbcPasswordTest {
  @TempDir Path dir;

  @Test
  void fileIsReadWhenResolvedWithoutItsLineBreak() throws Exception {
    Path f = dir.resolve("pw");
    Files.writeString(f, "CANARY-file\n");
    JdbcPassword p = JdbcPassword.fromFile(f.toString());
    assertEquals("CANARY-file", p.resolve());
    Files.writeString(f, "rotated");
    assertEquals("rotated", p.resolve(), "read on every resolve, so a rotated secret is seen");
  }

  @Test
  void missingFileNamesTheFileNotAValue() {
    JdbcPassword p = JdbcPassword.fromFile(dir.resolve("absent").toString());
    IllegalStateException e = assertThrows(IllegalStateException.class, p::resolve);
    assertTrue(e.getMessage().contains("absent"), e.getMessage());
  }

  @Test
  void unsetVariableFallsBackOrFailsNamingIt() {
    String unset = "KB_TEST_SURELY_UNSET_" + System.nanoTime();
    assertEquals("kb", JdbcPassword.fromEnv(unset, "kb").resolve());
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class, () -> JdbcPassword.fromEnv(unset, null).resolve());
    assertTrue(e.getMessage().contains(unset), e.getMessage());
  }

  @Test
  void setVariableIsRead() {
    // PATH is set in every test JVM; reading it proves the lookup, whatever its value.
    assertEquals(System.getenv("PATH"), JdbcPassword.fromEnv("PATH", "kb").resolve());
  }

  @Test
  void referencesSerializeWithoutTheSecretAndPrintWithoutIt() throws Exception {
    Path f = dir.resolve("pw");
    Files.writeString(f, "CANARY-serialized");
    StoreConfig c = StoreConfig.of("jdbc:h2:mem:x", "kb", JdbcPassword.fromFile(f.toString()));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(c);
    }
    assertFalse(
        new String(bytes.toByteArray(), StandardCharsets.ISO_8859_1).contains("CANARY"),
        "a store built from a reference carries no password");
    assertEquals("CANARY-serialized", c.password());
    assertFalse(c.toString().contains("CANARY"), c.toString());
    assertFalse(StoreConfig.of("jdbc:h2:mem:x", "kb", "CANARY").toString().contains("CANARY"));
  }

  @Test
  void storeConfigMasksCredentialsInItsUrlAndErrors() {
    StoreConfig c = StoreConfig.of("jdbc:postgresql://db/kb?password=CANARY", "kb", "");
    assertFalse(c.toString().contains("CANARY"), c.toString());
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> StoreConfig.of("postgresql://kb:CANARY@db/kb", "kb", ""));
    assertFalse(e.getMessage().contains("CANARY"), e.getMessage());
  }
}
