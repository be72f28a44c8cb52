package dev.kappabeam.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BearerTokenTest {
  private static final String SECRET = "0123456789abcdef0123456789abcdef";

  @TempDir Path dir;

  private BearerToken token(String content) throws Exception {
    Path file = dir.resolve("token");
    Files.writeString(file, content);
    return BearerToken.fromFile(file);
  }

  @Test
  void acceptsOnlyTheFilesTokenAfterBearer() throws Exception {
    // The trailing newline of `echo ... > file` is not part of the token.
    BearerToken token = token(SECRET + "\n");
    assertTrue(token.accepts("Bearer " + SECRET));
    assertTrue(token.accepts("bearer " + SECRET), "the scheme is case-insensitive");
    assertFalse(token.accepts(null));
    assertFalse(token.accepts(""));
    assertFalse(token.accepts("Bearer "));
    assertFalse(token.accepts("Bearer " + SECRET.substring(1)));
    assertFalse(token.accepts("Bearer " + SECRET + "0"));
    assertFalse(token.accepts("Basic " + SECRET));
    assertFalse(token.accepts(SECRET));
  }

  @Test
  void neverShowsTheToken() throws Exception {
    assertEquals("BearerToken[redacted]", token(SECRET).toString());
  }

  @Test
  void shortEmptyOrMissingTokensAreRefusedWithWhatToDo() throws Exception {
    for (String bad : new String[] {"", "  \n", "short-secret"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> token(bad));
      assertTrue(e.getMessage().contains("openssl rand -hex 32"), e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> token("two words of a long enough secret"));
    IllegalArgumentException missing =
        assertThrows(
            IllegalArgumentException.class, () -> BearerToken.fromFile(dir.resolve("nope")));
    assertTrue(missing.getMessage().startsWith("cannot read --token-file"), missing.getMessage());
  }
}
