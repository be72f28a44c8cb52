package dev.kappabeam.pipelines.kafka;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Resolves the offsets a run reads: start points (earliest, latest, a timestamp, or a consumer
 * group's committed offsets) and end offsets snapshotted now. Also commits a group's offsets. Thin
 * wrapper over Kafka's {@link Admin} client with timeouts and errors that say what to do.
 */
public final class KafkaOffsets implements AutoCloseable {
  private static final long TIMEOUT_SECONDS = 20;
  private final Admin admin;
  private final String bootstrapServers;

  public KafkaOffsets(String bootstrapServers) {
    this(KafkaClientConfig.of(bootstrapServers));
  }

  /** An admin client with the settings of {@code kafka}'s properties file, if any. */
  public KafkaOffsets(KafkaClientConfig kafka) {
    this.bootstrapServers = kafka.bootstrapServers();
    this.admin =
        Admin.create(
            kafka.properties(
                Map.of(
                    AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000",
                    AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "15000")));
  }

  /** The partitions of a topic, sorted. Fails clearly when the topic does not exist. */
  public List<TopicPartition> partitions(String topic) {
    TopicDescription d;
    try {
      d =
          admin
              .describeTopics(List.of(topic))
              .allTopicNames()
              .get(TIMEOUT_SECONDS, TimeUnit.SECONDS)
              .get(topic);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UnknownTopicOrPartitionException) {
        throw new KafkaSetupException(
            "topic '"
                + topic
                + "' does not exist on "
                + bootstrapServers
                + "; create it with: kb topics create "
                + topic
                + " --partitions N");
      }
      throw unreachable(e);
    } catch (TimeoutException | InterruptedException e) {
      throw unreachable(e);
    }
    return d.partitions().stream()
        .map(p -> new TopicPartition(topic, p.partition()))
        .sorted(Comparator.comparingInt(TopicPartition::partition))
        .collect(Collectors.toList());
  }

  /** Offsets per partition for a spec: earliest, latest, or the first at/after a timestamp. */
  public Map<TopicPartition, Long> offsets(List<TopicPartition> partitions, OffsetSpec spec) {
    Map<TopicPartition, OffsetSpec> request = new HashMap<>();
    for (TopicPartition tp : partitions) {
      request.put(tp, spec);
    }
    try {
      Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> info =
          admin.listOffsets(request).all().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      Map<TopicPartition, Long> out = new HashMap<>();
      for (TopicPartition tp : partitions) {
        long offset = info.get(tp).offset();
        out.put(tp, offset);
      }
      if (spec instanceof OffsetSpec.TimestampSpec) {
        // No record at or after the timestamp: -1; that partition has nothing from there on.
        Map<TopicPartition, Long> ends = offsets(partitions, OffsetSpec.latest());
        out.replaceAll((tp, o) -> o < 0 ? ends.get(tp) : o);
      }
      return out;
    } catch (ExecutionException | TimeoutException | InterruptedException e) {
      throw unreachable(e);
    }
  }

  /** earliest | latest | ISO-8601 instant, as an {@link OffsetSpec}. */
  public static OffsetSpec parseStartPoint(String text) {
    switch (text) {
      case "earliest":
        return OffsetSpec.earliest();
      case "latest":
        return OffsetSpec.latest();
      default:
        try {
          return OffsetSpec.forTimestamp(Instant.parse(text).toEpochMilli());
        } catch (DateTimeParseException e) {
          throw new IllegalArgumentException(
              "start/stop point must be earliest, latest or an ISO-8601 instant like"
                  + " 2026-11-25T10:00:00Z, got '"
                  + text
                  + "'");
        }
    }
  }

  /**
   * Parses explicit stop offsets ({@code partition:offset,...}, every partition given) and checks
   * them against the end offsets now: a stop offset past the end would make a bounded read wait for
   * records that do not exist.
   */
  public static Map<TopicPartition, Long> stopOffsets(
      List<TopicPartition> partitions, String text, Map<TopicPartition, Long> endNow) {
    return partitionOffsets(partitions, text, endNow, "--stopOffsets");
  }

  /**
   * Parses per-partition offsets {@code partition:offset,...} given as {@code flag}: every
   * partition once, each inside the log now.
   */
  public static Map<TopicPartition, Long> partitionOffsets(
      List<TopicPartition> partitions, String text, Map<TopicPartition, Long> endNow, String flag) {
    Map<Integer, Long> given = new HashMap<>();
    for (String pair : text.split(",")) {
      String[] kv = pair.strip().split(":");
      try {
        if (kv.length != 2 || given.put(Integer.parseInt(kv[0]), Long.parseLong(kv[1])) != null) {
          throw new NumberFormatException();
        }
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            flag
                + " must be partition:offset pairs like 0:1200,1:980, once per partition; got '"
                + text
                + "'");
      }
    }
    Map<TopicPartition, Long> out = new HashMap<>();
    for (TopicPartition tp : partitions) {
      Long o = given.remove(tp.partition());
      if (o == null) {
        throw new IllegalArgumentException(
            flag + " has no offset for partition " + tp + "; give every partition");
      }
      if (o < 0 || o > endNow.get(tp)) {
        throw new IllegalArgumentException(
            flag
                + ": offset "
                + o
                + " of "
                + tp
                + " is outside the log (end offset now "
                + endNow.get(tp)
                + ")");
      }
      out.put(tp, o);
    }
    if (!given.isEmpty()) {
      throw new IllegalArgumentException(
          flag + " names partitions the topic does not have: " + given.keySet());
    }
    return out;
  }

  /** Committed offsets of a consumer group (partitions without a commit are absent). */
  public Map<TopicPartition, Long> committed(String group, List<TopicPartition> partitions) {
    try {
      Map<TopicPartition, OffsetAndMetadata> m =
          admin
              .listConsumerGroupOffsets(group)
              .partitionsToOffsetAndMetadata()
              .get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      Map<TopicPartition, Long> out = new HashMap<>();
      for (TopicPartition tp : partitions) {
        OffsetAndMetadata o = m.get(tp);
        if (o != null) {
          out.put(tp, o.offset());
        }
      }
      return out;
    } catch (ExecutionException | TimeoutException | InterruptedException e) {
      throw unreachable(e);
    }
  }

  /** Commits offsets for a group that has no active members (a stopped job version). */
  public void commit(String group, Map<TopicPartition, Long> offsets) {
    Map<TopicPartition, OffsetAndMetadata> m = new HashMap<>();
    offsets.forEach((tp, o) -> m.put(tp, new OffsetAndMetadata(o)));
    try {
      admin.alterConsumerGroupOffsets(group, m).all().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException | InterruptedException e) {
      throw unreachable(e);
    }
  }

  /** Offset 0 for every partition: the start of a log whose head an archive holds. */
  public static Map<TopicPartition, Long> zero(List<TopicPartition> partitions) {
    Map<TopicPartition, Long> out = new java.util.LinkedHashMap<>();
    partitions.forEach(tp -> out.put(tp, 0L));
    return out;
  }

  /** Ranges from start offsets to end offsets, one per partition, sorted by partition. */
  public static List<PartitionRange> ranges(
      List<TopicPartition> partitions,
      Map<TopicPartition, Long> start,
      Map<TopicPartition, Long> end) {
    List<PartitionRange> out = new ArrayList<>();
    for (TopicPartition tp : partitions) {
      long e = end.get(tp);
      long s = Math.min(start.getOrDefault(tp, e), e);
      out.add(new PartitionRange(tp.topic(), tp.partition(), s, e));
    }
    return out;
  }

  public Set<String> topics() {
    try {
      return admin.listTopics().names().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException | InterruptedException e) {
      throw unreachable(e);
    }
  }

  /**
   * The topic's {@code max.message.bytes} (its own or the broker's default), or empty when the
   * topic does not exist or its configuration cannot be read.
   */
  public java.util.OptionalInt maxMessageBytes(String topic) {
    org.apache.kafka.common.config.ConfigResource resource =
        new org.apache.kafka.common.config.ConfigResource(
            org.apache.kafka.common.config.ConfigResource.Type.TOPIC, topic);
    try {
      org.apache.kafka.clients.admin.ConfigEntry entry =
          admin
              .describeConfigs(List.of(resource))
              .all()
              .get(TIMEOUT_SECONDS, TimeUnit.SECONDS)
              .get(resource)
              .get(org.apache.kafka.common.config.TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
      return entry == null || entry.value() == null
          ? java.util.OptionalInt.empty()
          : java.util.OptionalInt.of(Integer.parseInt(entry.value()));
    } catch (ExecutionException | TimeoutException | NumberFormatException e) {
      return java.util.OptionalInt.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return java.util.OptionalInt.empty();
    }
  }

  public Admin admin() {
    return admin;
  }

  private KafkaSetupException unreachable(Exception e) {
    if (e instanceof InterruptedException) {
      Thread.currentThread().interrupt();
    }
    Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
    if (cause instanceof AuthenticationException) {
      return new KafkaSetupException(
          "Kafka at "
              + bootstrapServers
              + " refused the connection ("
              + cause.getClass().getSimpleName()
              + (cause.getMessage() == null ? "" : ": " + cause.getMessage())
              + "); check the credentials and trust store in the --kafka-config file",
          cause);
    }
    return new KafkaSetupException(
        "cannot reach Kafka at "
            + bootstrapServers
            + " ("
            + cause.getClass().getSimpleName()
            + (cause.getMessage() == null ? "" : ": " + cause.getMessage())
            + "); is the broker up? Start the local one with: kb local up. A secured listener"
            + " needs its client settings: --kafka-config FILE",
        cause);
  }

  @Override
  public void close() {
    admin.close(java.time.Duration.ofSeconds(5));
  }
}
