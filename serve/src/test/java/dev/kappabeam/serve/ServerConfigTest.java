package dev.kappabeam.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerConfigTest {
  @TempDir Path dir;

  private BearerToken token() throws Exception {
    Path file = dir.resolve("token");
    Files.writeString(file, "0123456789abcdef0123456789abcdef");
    return BearerToken.fromFile(file);
  }

  @Test
  void hostHeadersLoseTheirPortAndCase() {
    assertEquals("localhost", ServerConfig.hostOf("localhost:8080"));
    assertEquals("kb.example.com", ServerConfig.hostOf("KB.Example.com."));
    assertEquals("127.0.0.1", ServerConfig.hostOf("127.0.0.1:80"));
    assertEquals("[::1]", ServerConfig.hostOf("[::1]:8080"));
    assertEquals("[::1]", ServerConfig.hostOf("[::1]"));
    assertNull(ServerConfig.hostOf(null));
    assertNull(ServerConfig.hostOf(""));
    assertNull(ServerConfig.hostOf("evil.example:80x"));
    assertNull(ServerConfig.hostOf("user@evil.example"));
  }

  @Test
  void loopbackAnswersToItsAddressLocalhostAndTheAllowedHosts() {
    assertEquals(
        Set.of("127.0.0.1", "localhost", "[::1]", "kb.example.com"),
        ServerConfig.listen("127.0.0.1", 0)
            .withAllowedHosts(List.of("KB.example.com"))
            .allowedHostNames());
  }

  @Test
  void aNonLoopbackAddressWithoutATokenIsRefused() throws Exception {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> ServerConfig.listen("0.0.0.0", 0).withAllowedHosts(List.of("kb")).check());
    assertTrue(e.getMessage().contains("--token-file"), e.getMessage());
    ServerConfig withToken =
        ServerConfig.listen("0.0.0.0", 0).withAllowedHosts(List.of("kb")).withToken(token());
    // The wildcard address is no name a client can give: only the allowed hosts count.
    assertEquals(Set.of("kb"), withToken.check().allowedHostNames());
  }

  @Test
  void theWildcardAddressNeedsAnAllowedHost() throws Exception {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> ServerConfig.listen("0.0.0.0", 0).withToken(token()).check());
    assertTrue(e.getMessage().contains("--allowed-host"), e.getMessage());
  }

  @Test
  void badValuesSayWhatToGive() {
    assertThrows(
        IllegalArgumentException.class,
        () -> ServerConfig.listen("127.0.0.1", 0).withAllowedHosts(List.of("http://kb:80/")));
    assertThrows(
        IllegalArgumentException.class,
        () -> ServerConfig.listen("127.0.0.1", 0).withReadTimeout(Duration.ZERO));
    assertThrows(
        IllegalArgumentException.class,
        () -> ServerConfig.listen("127.0.0.1", 0).withQueryTimeout(Duration.ofSeconds(-1)));
    assertThrows(IllegalArgumentException.class, () -> ServerConfig.listen("127.0.0.1", 70000));
  }
}
