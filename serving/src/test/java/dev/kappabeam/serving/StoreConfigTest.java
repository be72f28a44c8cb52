package dev.kappabeam.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.transforms.views.Views;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StoreConfigTest {
  @Test
  void toStringHidesThePassword() {
    StoreConfig c = StoreConfig.of("jdbc:postgresql://db:5432/kb", "kb", "s3cret");
    assertFalse(c.toString().contains("s3cret"), c.toString());
    assertTrue(c.toString().contains("jdbc:postgresql://db:5432/kb"));
  }

  @Test
  void urlMustBeAJdbcUrl() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> StoreConfig.of("postgresql://db/kb", "kb", ""));
    assertTrue(e.getMessage().contains("must start with jdbc:"), e.getMessage());
  }

  @Test
  void maxAttemptsIsAtLeastOne() {
    StoreConfig c = StoreConfig.of("jdbc:h2:mem:x", "sa", "");
    assertEquals(StoreConfig.DEFAULT_MAX_ATTEMPTS, c.maxAttempts());
    assertEquals(1, c.withMaxAttempts(1).maxAttempts());
    assertThrows(IllegalArgumentException.class, () -> c.withMaxAttempts(0));
  }

  @Test
  void survivesJavaSerializationForBeamWorkers() throws Exception {
    StoreConfig c = StoreConfig.of("jdbc:h2:mem:x", "sa", "pw").withMaxAttempts(7);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(c);
    }
    try (ObjectInputStream in =
        new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      assertEquals(c, in.readObject());
    }
  }

  @Test
  void tableNamesJoinViewAndVersion() {
    assertEquals("user_sessions__v2", ViewStore.tableName(Views.USER_SESSIONS, "v2"));
    assertEquals(
        "user_sessions__2026_11_25", ViewStore.tableName(Views.USER_SESSIONS, "2026_11_25"));
  }

  @Test
  void versionsSortWithNumbersAsNumbers() {
    List<String> versions = new ArrayList<>(List.of("v10", "v2", "v1", "v1_b", "v02x", "a"));
    versions.sort(ViewStore.NATURAL);
    assertEquals(List.of("a", "v1", "v1_b", "v2", "v02x", "v10"), versions);
  }
}
