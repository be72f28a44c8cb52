package dev.kappabeam.cli;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Plain Kafka clients for end-to-end tests: produce records (with explicit partitions when wanted)
 * and wait for their acknowledgements, read a topic up to offsets fixed beforehand (polling with a
 * deadline, never sleeping), and look up consumer-group commits.
 */
final class KafkaTestClient implements AutoCloseable {
  private static final Duration READ_DEADLINE = Duration.ofSeconds(60);

  private final String bootstrapServers;
  private final Admin admin;

  KafkaTestClient(String bootstrapServers) {
    this.bootstrapServers = bootstrapServers;
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
    this.admin = Admin.create(p);
  }

  /**
   * Sends the records in order (idempotent, acks=all) and returns where each landed, in the same
   * order, once all are acknowledged.
   */
  /** The admin client (topics, consumer groups). */
  Admin admin() {
    return admin;
  }

  List<RecordMetadata> produce(List<ProducerRecord<byte[], byte[]>> records) {
    return produce(records, Map.of());
  }

  /** As {@link #produce(List)}, with producer settings added (e.g. a larger max.request.size). */
  List<RecordMetadata> produce(
      List<ProducerRecord<byte[], byte[]>> records, Map<String, Object> producerConfig) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    // Not idempotent, one request in flight: order is kept without producer sequence numbers. An
    // idempotent producer here was twice refused for good by the 4.1 broker on a just-created topic
    // (OutOfOrderSequenceException, "seq 0 after 295"), failing the test after the 120 s timeout.
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
    p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    p.putAll(producerConfig);
    List<Future<RecordMetadata>> futures = new ArrayList<>(records.size());
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      // Learn every partition's leader first: the first batch to a topic created a moment ago
      // otherwise races the broker's creation of the partition.
      records.stream().map(ProducerRecord::topic).distinct().forEach(producer::partitionsFor);
      for (ProducerRecord<byte[], byte[]> r : records) {
        futures.add(producer.send(r));
      }
      producer.flush();
      List<RecordMetadata> out = new ArrayList<>(futures.size());
      for (Future<RecordMetadata> f : futures) {
        out.add(f.get(60, TimeUnit.SECONDS));
      }
      return out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while producing", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("producing failed: " + e, e);
    }
  }

  /** The current end offset of every partition of a topic. */
  Map<TopicPartition, Long> endOffsets(String topic) {
    try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
      return consumer.endOffsets(partitions(consumer, topic));
    }
  }

  /** Every record of a topic up to its current end offsets, partition by partition. */
  List<ConsumerRecord<byte[], byte[]>> readAll(String topic) {
    return read(topic, Map.of(), endOffsets(topic));
  }

  /**
   * The records of {@code topic} from {@code from} (default: the beginning) up to {@code to}
   * (exclusive; partitions absent from it are not read). Fails if they cannot all be read within a
   * deadline.
   */
  List<ConsumerRecord<byte[], byte[]>> read(
      String topic, Map<TopicPartition, Long> from, Map<TopicPartition, Long> to) {
    try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (TopicPartition tp : partitions(consumer, topic)) {
        if (to.getOrDefault(tp, 0L) > from.getOrDefault(tp, 0L)) {
          partitions.add(tp);
        }
      }
      List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
      if (partitions.isEmpty()) {
        return out;
      }
      consumer.assign(partitions);
      Map<TopicPartition, Long> beginnings = consumer.beginningOffsets(partitions);
      for (TopicPartition tp : partitions) {
        consumer.seek(tp, from.getOrDefault(tp, beginnings.get(tp)));
      }
      long deadline = System.nanoTime() + READ_DEADLINE.toNanos();
      while (!partitions.isEmpty()) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError(
              "could not read " + topic + " up to " + to + " within " + READ_DEADLINE);
        }
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          if (r.offset() < to.get(new TopicPartition(r.topic(), r.partition()))) {
            out.add(r);
          }
        }
        partitions.removeIf(tp -> consumer.position(tp) >= to.get(tp));
      }
      return out;
    }
  }

  /** The offsets a consumer group has committed on a topic (partitions without one absent). */
  Map<TopicPartition, Long> committed(String group, String topic) {
    try {
      Map<TopicPartition, OffsetAndMetadata> all =
          admin
              .listConsumerGroupOffsets(group)
              .partitionsToOffsetAndMetadata()
              .get(30, TimeUnit.SECONDS);
      Map<TopicPartition, Long> out = new HashMap<>();
      all.forEach(
          (tp, o) -> {
            if (tp.topic().equals(topic) && o != null) {
              out.put(tp, o.offset());
            }
          });
      return out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("cannot list offsets of group " + group + ": " + e, e);
    }
  }

  /** The value of the last header with this key as UTF-8, or null. */
  static String header(ConsumerRecord<?, ?> r, String key) {
    Header h = r.headers().lastHeader(key);
    return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }

  private KafkaConsumer<byte[], byte[]> consumer() {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
    return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  private static List<TopicPartition> partitions(KafkaConsumer<?, ?> consumer, String topic) {
    List<TopicPartition> out = new ArrayList<>();
    consumer
        .partitionsFor(topic, Duration.ofSeconds(30))
        .forEach(info -> out.add(new TopicPartition(topic, info.partition())));
    out.sort((a, b) -> Integer.compare(a.partition(), b.partition()));
    return out;
  }

  @Override
  public void close() {
    admin.close(Duration.ofSeconds(5));
  }
}
