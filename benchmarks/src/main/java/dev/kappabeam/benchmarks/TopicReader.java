package dev.kappabeam.benchmarks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads a whole topic, from the beginning offsets to the end offsets snapshotted when it starts,
 * with one {@link KafkaConsumer} on the calling thread (no group, no commits). B0 and B2 read
 * through it with the same consumer settings.
 */
final class TopicReader {
  private TopicReader() {}

  /** Consumer settings for a full sequential read: large fetches, no auto commit. */
  static Properties consumerConfig(String bootstrapServers) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "10000");
    p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, String.valueOf(64 << 20));
    p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, String.valueOf(8 << 20));
    p.put(ConsumerConfig.RECEIVE_BUFFER_CONFIG, String.valueOf(1 << 20));
    return p;
  }

  /** Hands every record of {@code topic} to {@code sink}; returns how many were read. */
  static long readAll(
      String bootstrapServers, String topic, Consumer<ConsumerRecord<byte[], byte[]>> sink) {
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(
            consumerConfig(bootstrapServers),
            new ByteArrayDeserializer(),
            new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (PartitionInfo info : consumer.partitionsFor(topic, Duration.ofSeconds(30))) {
        partitions.add(new TopicPartition(topic, info.partition()));
      }
      Map<TopicPartition, Long> end = new HashMap<>(consumer.endOffsets(partitions));
      Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions);
      List<TopicPartition> open = new ArrayList<>();
      for (TopicPartition tp : partitions) {
        if (end.get(tp) > begin.get(tp)) {
          open.add(tp);
        }
      }
      consumer.assign(open);
      consumer.seekToBeginning(open);
      long n = 0;
      while (!open.isEmpty()) {
        ConsumerRecords<byte[], byte[]> batch = consumer.poll(Duration.ofMillis(500));
        for (ConsumerRecord<byte[], byte[]> r : batch) {
          TopicPartition tp = new TopicPartition(r.topic(), r.partition());
          if (r.offset() < end.get(tp)) {
            sink.accept(r);
            n++;
          }
        }
        List<TopicPartition> done = new ArrayList<>();
        for (TopicPartition tp : open) {
          if (consumer.position(tp) >= end.get(tp)) {
            done.add(tp);
          }
        }
        if (!done.isEmpty()) {
          open.removeAll(done);
          consumer.assign(open);
        }
      }
      return n;
    }
  }
}
