package dev.kappabeam.devstack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local stack's SASL_SSL listener: the client file works, wrong credentials do not. */
class SecureListenerIT {
  @TempDir Path dataDir;

  @Test
  void clientFileConnectsAndWrongPasswordIsRefused() throws Exception {
    LocalStack.Config config = LocalStack.Config.of(dataDir).withFreePorts().withSecureKafkaPort(0);
    try (LocalStack stack = LocalStack.start(config)) {
      String secure = stack.secureBootstrapServers().orElseThrow();
      Path clientFile = stack.clientSecureFile().orElseThrow();
      assertEquals(
          "rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(clientFile)));
      assertEquals(
          "rw-------",
          PosixFilePermissions.toString(
              Files.getPosixFilePermissions(dataDir.resolve("kafka-server.properties"))));
      Properties client = new Properties();
      try (Reader r = Files.newBufferedReader(clientFile)) {
        client.load(r);
      }
      assertEquals("SASL_SSL", client.getProperty("security.protocol"));
      assertEquals("SCRAM-SHA-512", client.getProperty("sasl.mechanism"));

      stack.ensureTopic("secured", 2);
      try (Admin admin = Admin.create(config(client, secure))) {
        assertTrue(
            admin.listTopics().names().get(20, TimeUnit.SECONDS).contains("secured"),
            "the topic is visible over SASL_SSL");
      }

      Properties wrong = new Properties();
      wrong.putAll(client);
      wrong.setProperty(
          "sasl.jaas.config",
          "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"kb\""
              + " password=\"wrong\";");
      try (Admin admin = Admin.create(config(wrong, secure))) {
        ExecutionException e =
            assertThrows(
                ExecutionException.class,
                () -> admin.listTopics().names().get(20, TimeUnit.SECONDS));
        assertInstanceOf(SaslAuthenticationException.class, e.getCause());
      }

      // The state a background stack publishes names the listener and the file, not the password.
      StackState state =
          StackState.of(stack, ProcessHandle.current().pid(), java.time.Instant.now());
      assertEquals(secure, state.secureBootstrapServers().orElseThrow());
      assertEquals(clientFile, state.clientSecureFile().orElseThrow());
      String password =
          client.getProperty("sasl.jaas.config").replaceAll(".*password=\"([^\"]*)\".*", "$1");
      assertFalse(password.isBlank());
      assertFalse(Files.readString(dataDir.resolve("kafka-server.properties")).contains(password));
    }
  }

  private static Map<String, Object> config(Properties client, String bootstrap) {
    Map<String, Object> c = new HashMap<>();
    client.forEach((k, v) -> c.put((String) k, v));
    c.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 15_000);
    c.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
    return c;
  }
}
