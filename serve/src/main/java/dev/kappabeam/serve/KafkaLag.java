package dev.kappabeam.serve;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;

/**
 * Lag of a version with a Kafka {@link Admin} client: per partition, the topic's end offset (the
 * log end, read-uncommitted) minus how far the version has read: the further of what its job
 * reported reading ({@code kb_read_progress}) and its group's committed offset. A historical run
 * never commits, and a Flink job commits only on checkpoints, so committed offsets alone would show
 * a finished version as behind. A partition with neither counts from the partition's log start (the
 * whole retained log is behind), which is where a reprocess from earliest starts. Every call has a
 * short deadline, so a broker that is down makes the API report the error instead of hanging.
 */
final class KafkaLag implements AutoCloseable {
  private static final Duration DEADLINE = Duration.ofSeconds(5);

  /**
   * One partition's offsets; {@code committed} is null if the group has committed none, {@code
   * read} null if the job reported no read.
   */
  record PartitionLag(int partition, long endOffset, Long committed, Long read, long lag) {}

  private final Admin admin;

  KafkaLag(String bootstrapServers) {
    this(bootstrapServers, Map.of());
  }

  /** {@code settings} (a Kafka client properties file's) overlay the lag reader's defaults. */
  KafkaLag(String bootstrapServers, Map<String, ?> settings) {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(AdminClientConfig.CLIENT_ID_CONFIG, "kb-serve");
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) DEADLINE.toMillis());
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) DEADLINE.toMillis());
    p.putAll(settings);
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    this.admin = Admin.create(p);
  }

  /**
   * Lag per partition of {@code group} on {@code topic}, by partition number, given what the
   * version's job reported reading ({@code read}: next offset by partition).
   */
  List<PartitionLag> lag(String topic, String group, Map<Integer, Long> read) {
    TopicDescription d = get(admin.describeTopics(List.of(topic)).allTopicNames()).get(topic);
    List<TopicPartition> partitions = new ArrayList<>();
    for (TopicPartitionInfo i : d.partitions()) {
      partitions.add(new TopicPartition(topic, i.partition()));
    }
    Map<TopicPartition, OffsetAndMetadata> committed =
        get(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata());
    Map<TopicPartition, Long> end = offsets(partitions, OffsetSpec.latest());
    Map<TopicPartition, Long> start = offsets(partitions, OffsetSpec.earliest());
    Map<Integer, PartitionLag> out = new TreeMap<>();
    for (TopicPartition tp : partitions) {
      OffsetAndMetadata c = committed.get(tp);
      Long at = c == null ? null : c.offset();
      Long reported = read.get(tp.partition());
      long from =
          Math.max(at == null ? start.get(tp) : at, reported == null ? start.get(tp) : reported);
      out.put(
          tp.partition(),
          new PartitionLag(
              tp.partition(), end.get(tp), at, reported, Math.max(0, end.get(tp) - from)));
    }
    return List.copyOf(out.values());
  }

  private Map<TopicPartition, Long> offsets(List<TopicPartition> partitions, OffsetSpec spec) {
    Map<TopicPartition, OffsetSpec> request = new HashMap<>();
    partitions.forEach(tp -> request.put(tp, spec));
    Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> r =
        get(admin.listOffsets(request).all());
    Map<TopicPartition, Long> out = new HashMap<>();
    r.forEach((tp, info) -> out.put(tp, info.offset()));
    return out;
  }

  private static <T> T get(org.apache.kafka.common.KafkaFuture<T> f) {
    try {
      return f.get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while asking Kafka", e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw new IllegalStateException(cause.getMessage(), cause);
    } catch (TimeoutException e) {
      throw new IllegalStateException("Kafka did not answer within " + DEADLINE.toSeconds() + " s");
    }
  }

  @Override
  public void close() {
    admin.close(Duration.ofSeconds(2));
  }
}
