package dev.kappabeam.cli;

import dev.kappabeam.pipelines.kafka.KafkaClientConfig;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Kafka producers for kb's write commands: idempotent, acks=all, byte arrays. */
final class Producers {
  private Producers() {}

  /** kb's producer defaults, overlaid with the {@code --kafka-config} file's settings. */
  static KafkaProducer<byte[], byte[]> create(KafkaClientConfig kafka) {
    Properties p =
        kafka.properties(
            Map.of(
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true",
                ProducerConfig.LINGER_MS_CONFIG, "5",
                ProducerConfig.BATCH_SIZE_CONFIG, String.valueOf(256 * 1024),
                ProducerConfig.MAX_BLOCK_MS_CONFIG, "15000",
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "30000",
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000"));
    return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
  }
}
