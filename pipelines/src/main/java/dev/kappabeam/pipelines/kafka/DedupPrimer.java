package dev.kappabeam.pipelines.kafka;

import dev.kappabeam.transforms.events.EventFormat;
import dev.kappabeam.transforms.events.ParseEvents;
import dev.kappabeam.transforms.events.Parsed;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Where a Lambda speed run starts reading so that its de-duplication knows the events before the
 * cutoff that a re-sent copy after the cutoff could repeat.
 *
 * <p>A streaming run forgets an event_id once its watermark passes the event's time plus the
 * de-duplication horizon. At the cutoff that watermark is about the newest event time before the
 * cutoff minus the out-of-orderness bound, so the speed run must know every event before the cutoff
 * whose time is at least {@code newest - bound - horizon}: the priming threshold. Scanning each
 * partition backwards from its cutoff, the start is the lowest offset holding such an event; the
 * scan stops at a chunk with no event within the allowed lateness of the threshold (records more
 * out of order than that are late anyway). Records that do not parse are skipped (the batch
 * dead-lettered them).
 *
 * <pre>{@code
 * DedupPrimer.Primer primer =
 *     DedupPrimer.startOffsets(kafka, format, cutoff, Duration.ofHours(1), Duration.ofSeconds(10),
 *         Duration.ofHours(1));
 * }</pre>
 */
public final class DedupPrimer {
  /** Records read per backward step. */
  static final int CHUNK = 2_000;

  private DedupPrimer() {}

  /**
   * Where to start, and the newest event time among the records from there to the cutoff (empty
   * when there are none): only events up to it can have a copy before the cutoff.
   */
  public record Primer(Map<TopicPartition, Long> start, java.util.Optional<Instant> newest) {}

  /**
   * Per partition, the first offset to read (at most the cutoff, at least the log start), and the
   * newest event time read. Prints a progress line to stderr every million records scanned.
   */
  public static Primer startOffsets(
      KafkaClientConfig kafka,
      EventFormat<?> format,
      Map<TopicPartition, Long> cutoff,
      Duration horizon,
      Duration bound,
      Duration lateness) {
    Map<TopicPartition, Long> logStart;
    try (KafkaOffsets offsets = new KafkaOffsets(kafka)) {
      logStart =
          offsets.offsets(
              List.copyOf(cutoff.keySet()), org.apache.kafka.clients.admin.OffsetSpec.earliest());
    }
    Properties props =
        kafka.properties(
            Map.of(
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG,
                String.valueOf(CHUNK),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                "read_committed"));
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      Scan<?> scan = new Scan<>(consumer, format);
      // The newest event time before the cutoff, per partition (from its last chunk).
      long newest = Long.MAX_VALUE;
      for (Map.Entry<TopicPartition, Long> e : cutoff.entrySet()) {
        long from = Math.max(logStart.get(e.getKey()), e.getValue() - CHUNK);
        long max = Long.MIN_VALUE;
        for (long[] r : scan.read(e.getKey(), from, e.getValue())) {
          max = Math.max(max, r[1]);
        }
        if (max != Long.MIN_VALUE) {
          newest = Math.min(newest, max);
        }
      }
      Map<TopicPartition, Long> start = new LinkedHashMap<>();
      if (newest == Long.MAX_VALUE) {
        start.putAll(cutoff); // no event before the cutoff: nothing to prime
        return new Primer(start, java.util.Optional.empty());
      }
      long threshold = newest - bound.toMillis() - horizon.toMillis();
      long stopBelow = threshold - lateness.toMillis();
      long newestPrimed = Long.MIN_VALUE;
      for (Map.Entry<TopicPartition, Long> e : cutoff.entrySet()) {
        long first = e.getValue();
        long to = e.getValue();
        long begin = logStart.get(e.getKey());
        while (to > begin) {
          long from = Math.max(begin, to - CHUNK);
          boolean near = false;
          for (long[] r : scan.read(e.getKey(), from, to)) {
            newestPrimed = Math.max(newestPrimed, r[1]);
            if (r[1] >= threshold) {
              first = Math.min(first, r[0]);
            }
            near |= r[1] >= stopBelow;
          }
          if (!near) {
            break;
          }
          to = from;
        }
        start.put(e.getKey(), first);
      }
      return new Primer(
          start,
          newestPrimed == Long.MIN_VALUE
              ? java.util.Optional.empty()
              : java.util.Optional.of(Instant.ofEpochMilli(newestPrimed)));
    }
  }

  /** Reads offset ranges of a partition as (offset, event time) pairs of the valid events. */
  private static final class Scan<E> {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final EventFormat<E> format;
    private long scanned;

    Scan(KafkaConsumer<byte[], byte[]> consumer, EventFormat<E> format) {
      this.consumer = consumer;
      this.format = format;
    }

    List<long[]> read(TopicPartition tp, long from, long to) {
      List<long[]> out = new java.util.ArrayList<>();
      if (from >= to) {
        return out;
      }
      consumer.assign(List.of(tp));
      consumer.seek(tp, from);
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (consumer.position(tp) < to) {
        if (System.nanoTime() > deadline) {
          throw new KafkaSetupException(
              "priming the de-duplication: no progress reading " + tp + " at " + from);
        }
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          if (r.offset() >= to) {
            break;
          }
          if (++scanned % 1_000_000 == 0) {
            System.err.printf("kb: priming de-duplication: %,d records scanned%n", scanned);
          }
          Parsed<E> parsed = ParseEvents.parseOnce(format, r.value());
          if (parsed.isValid()) {
            out.add(new long[] {r.offset(), format.eventTimeMillis(parsed.event())});
          }
        }
      }
      return out;
    }
  }

  /** Records from {@code start} to {@code cutoff}, summed over partitions. */
  public static long primerRecords(
      Map<TopicPartition, Long> start, Map<TopicPartition, Long> cutoff) {
    Map<TopicPartition, Long> s = new HashMap<>(start);
    long n = 0;
    for (Map.Entry<TopicPartition, Long> e : cutoff.entrySet()) {
      n += e.getValue() - s.getOrDefault(e.getKey(), e.getValue());
    }
    return n;
  }
}
