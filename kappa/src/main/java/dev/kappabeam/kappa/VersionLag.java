package dev.kappabeam.kappa;

import dev.kappabeam.pipelines.kafka.KafkaClientConfig;
import dev.kappabeam.serving.ReadProgress;
import dev.kappabeam.serving.RegisteredVersion;
import java.nio.file.Path;
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
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Lag of a version with a Kafka {@link Admin} client: per partition, the topic's end offset (the
 * log end, read-uncommitted) minus how far the version has read: the further of what its job
 * reported reading ({@code kb_read_progress}) and its group's committed offset. A historical run
 * never commits, and a Flink job commits only on checkpoints, so committed offsets alone would show
 * a finished version as behind. A partition with neither counts from the partition's log start (the
 * whole retained log is behind), which is where a reprocess from earliest starts. Every call has a
 * short deadline, so a broker that is down makes the API report the error instead of hanging.
 */
public final class VersionLag implements AutoCloseable {
  private static final Duration DEADLINE = Duration.ofSeconds(5);

  /**
   * One partition's offsets; {@code committed} is null if the group has committed none, {@code
   * read} null if the job reported no read.
   */
  public record PartitionLag(
      int partition, long endOffset, @Nullable Long committed, @Nullable Long read, long lag) {}

  private final Admin admin;

  /** With the Kafka client settings of {@code kafka} (its properties file, if any). */
  public static VersionLag of(KafkaClientConfig kafka) {
    return new VersionLag(
        kafka.bootstrapServers(),
        kafka.file().map(f -> KafkaClientConfig.read(Path.of(f))).orElse(Map.of()));
  }

  /** {@code settings} (a Kafka client properties file's) overlay the lag reader's defaults. */
  public VersionLag(String bootstrapServers, Map<String, ?> settings) {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(AdminClientConfig.CLIENT_ID_CONFIG, "kb-lag");
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
  public List<PartitionLag> lag(String topic, String group, Map<Integer, Long> read) {
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

  /**
   * Lag per partition of version {@code v}, with what its job reported reading in {@code progress}.
   *
   * @throws IllegalArgumentException when the version has no topic or consumer group
   */
  public List<PartitionLag> lag(RegisteredVersion v, ReadProgress progress) {
    if (v.topic() == null || v.consumerGroup() == null) {
      throw new IllegalArgumentException("the version has no topic or consumer group");
    }
    Map<Integer, Long> read = new TreeMap<>();
    progress
        .read(v.consumerGroup(), v.topic(), null)
        .forEach((p, at) -> read.put(p, at.nextOffset()));
    return lag(v.topic(), v.consumerGroup(), read);
  }

  /** The records behind, over all partitions. */
  public static long total(List<PartitionLag> lag) {
    return lag.stream().mapToLong(PartitionLag::lag).sum();
  }

  /** True when the version has read nothing yet: no committed offset, no reported read. */
  public static boolean nothingRead(List<PartitionLag> lag) {
    return lag.stream().allMatch(p -> p.committed() == null && p.read() == null);
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
