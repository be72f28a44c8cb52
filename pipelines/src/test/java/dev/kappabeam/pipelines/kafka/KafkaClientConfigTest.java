package dev.kappabeam.pipelines.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.beam.sdk.util.SerializableUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KafkaClientConfigTest {
  private static final String CANARY = "canary-7f3a9b";

  @TempDir Path dir;

  private Path file(String text) throws Exception {
    Path f = dir.resolve("client.properties");
    Files.writeString(f, text);
    return f;
  }

  @Test
  void fileSettingsOverlayDefaultsButNotTheBootstrapServers() throws Exception {
    Path f =
        file("security.protocol=SASL_SSL\nmax.poll.records=7\nbootstrap.servers=elsewhere:9092\n");
    Map<String, Object> c =
        KafkaClientConfig.of("broker:9093", f.toString())
            .clientConfig(Map.of("max.poll.records", "5000", "request.timeout.ms", "10000"));
    assertEquals("SASL_SSL", c.get("security.protocol"));
    assertEquals("7", c.get("max.poll.records"));
    assertEquals("10000", c.get("request.timeout.ms"));
    assertEquals("broker:9093", c.get("bootstrap.servers"));
  }

  @Test
  void aKeyKappaBeamOwnsIsRefused() throws Exception {
    Path f = file("group.id=mine\n");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> KafkaClientConfig.of("b:1", f.toString()).validate());
    assertTrue(e.getMessage().contains("group.id"), e.getMessage());
  }

  @Test
  void aMissingFileFailsWithOneLineNamingIt() {
    String missing = dir.resolve("nope.properties").toString();
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> KafkaClientConfig.of("b:1", missing).validate());
    assertTrue(e.getMessage().contains(missing), e.getMessage());
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
  }

  @Test
  void anInvalidValueFailsValidationWithoutQuotingThePassword() throws Exception {
    Path f =
        file(
            "security.protocol=NOT_A_PROTOCOL\nsasl.jaas.config=x required password=\""
                + CANARY
                + "\";\n");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> KafkaClientConfig.of("b:1", f.toString()).validate());
    assertTrue(e.getMessage().contains("security.protocol"), e.getMessage());
    assertFalse(e.getMessage().contains(CANARY), e.getMessage());
  }

  @Test
  void theSerializedFactoriesCarryThePathNotTheSecrets() throws Exception {
    Path f =
        file(
            "security.protocol=SASL_SSL\nsasl.jaas.config=x required password=\""
                + CANARY
                + "\";\n");
    KafkaClientConfig kafka = KafkaClientConfig.of("b:1", f.toString());
    for (Object fn : new Object[] {kafka.consumerFactory(), kafka.producerFactory(), kafka}) {
      String bytes =
          new String(
              SerializableUtils.serializeToByteArray((java.io.Serializable) fn),
              java.nio.charset.StandardCharsets.ISO_8859_1);
      assertTrue(bytes.contains(f.toString()));
      assertFalse(bytes.contains(CANARY));
    }
  }
}
