package dev.kappabeam.pipelines.kafka;

import dev.kappabeam.transforms.events.EventFormat;
import dev.kappabeam.transforms.events.ReferenceFormat;
import dev.kappabeam.transforms.events.SourceRecord;
import java.io.IOException;
import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Properties;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.io.UnboundedSource;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.joda.time.Instant;

/**
 * The drained streaming run's source: fixed offset ranges of Kafka partitions read as an unbounded
 * source, so lateness and de-duplication behave exactly as in an open-ended run, that ends once
 * every range is read (its watermark then jumps to the end and fires every window).
 *
 * <p>Partitions are assigned to splits by index (range {@code i} of the sorted ranges to split
 * {@code i % n}), and runners with a source of their own place splits by index too (Flink's source
 * wrapper: split {@code i} on subtask {@code i % parallelism}), so the read and everything fused
 * after it spread over the workers with the partitions. KafkaIO's splittable read of descriptors
 * could not: Beam keys each descriptor by a random key, so all partitions of a run could land on
 * one subtask (benchmarks/README.md).
 *
 * <p>Elements are stamped with the event's {@code ts} (records that are not valid events with the
 * minimum timestamp; they become dead letters and do not move the watermark). Watermark: per
 * partition, the newest event time read minus the out-of-orderness bound (the minimum until one is
 * known); the reader's is the minimum over its partitions still being read, the end of time once
 * all are read. The checkpoint holds each partition's next offset and newest event time, so a
 * restored reader resumes with the same watermark. Uses a plain {@link KafkaConsumer} with manual
 * assignment: no consumer group, nothing committed.
 */
public final class KafkaRangeUnboundedSource
    extends UnboundedSource<SourceRecord, KafkaRangeUnboundedSource.Checkpoint> {
  private final KafkaClientConfig kafka;
  private final List<PartitionRange> ranges;
  private final org.joda.time.Duration maxOutOfOrderness;
  private final EventFormat<?> format;

  /** The archive that holds offsets below each partition's seam, or null. */
  private final @Nullable LogArchive archive;

  /** Per partition ("topic/partition"), the first offset read from Kafka; below it, the archive. */
  private final Map<String, Long> seams;

  /** A source of reference events ({@link ReferenceFormat}). */
  public KafkaRangeUnboundedSource(
      KafkaClientConfig kafka, List<PartitionRange> ranges, org.joda.time.Duration bound) {
    this(kafka, ranges, bound, ReferenceFormat.of());
  }

  /** {@code format} gives each record its event time. */
  public KafkaRangeUnboundedSource(
      KafkaClientConfig kafka,
      List<PartitionRange> ranges,
      org.joda.time.Duration bound,
      EventFormat<?> format) {
    this(kafka, ranges, bound, format, null, Map.of());
  }

  private KafkaRangeUnboundedSource(
      KafkaClientConfig kafka,
      List<PartitionRange> ranges,
      org.joda.time.Duration bound,
      EventFormat<?> format,
      @Nullable LogArchive archive,
      Map<String, Long> seams) {
    this.kafka = kafka;
    this.ranges = List.copyOf(ranges);
    this.maxOutOfOrderness = bound;
    this.format = format;
    this.archive = archive;
    this.seams = new HashMap<>(seams);
  }

  /**
   * This source reading each partition's offsets below {@code seams} (partition → the first offset
   * still in Kafka) from {@code archive}, then Kafka from there: one ordered read per partition
   * across the seam, so the watermark and de-duplication see the whole log as one.
   */
  public KafkaRangeUnboundedSource withArchive(LogArchive archive, Map<Integer, Long> seams) {
    Map<String, Long> byKey = new HashMap<>();
    for (PartitionRange r : ranges) {
      byKey.put(key(r), seams.getOrDefault(r.partition(), r.start()));
    }
    return new KafkaRangeUnboundedSource(kafka, ranges, maxOutOfOrderness, format, archive, byKey);
  }

  private static String key(PartitionRange r) {
    return r.topic() + "/" + r.partition();
  }

  public List<PartitionRange> ranges() {
    return ranges;
  }

  /** The non-empty ranges, by topic and partition, dealt round-robin to {@code desired} splits. */
  @Override
  public List<KafkaRangeUnboundedSource> split(int desired, PipelineOptions options) {
    List<PartitionRange> sorted = new ArrayList<>();
    for (PartitionRange r : ranges) {
      if (r.size() > 0) {
        sorted.add(r);
      }
    }
    sorted.sort(
        Comparator.comparing(PartitionRange::topic).thenComparingInt(PartitionRange::partition));
    int n = Math.max(1, Math.min(desired, sorted.size()));
    List<List<PartitionRange>> dealt = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      dealt.add(new ArrayList<>());
    }
    for (int i = 0; i < sorted.size(); i++) {
      dealt.get(i % n).add(sorted.get(i));
    }
    List<KafkaRangeUnboundedSource> out = new ArrayList<>();
    for (List<PartitionRange> d : dealt) {
      out.add(new KafkaRangeUnboundedSource(kafka, d, maxOutOfOrderness, format, archive, seams));
    }
    return out;
  }

  @Override
  public UnboundedReader<SourceRecord> createReader(
      PipelineOptions options, @Nullable Checkpoint checkpoint) {
    return new Reader(this, checkpoint, options);
  }

  @Override
  public Coder<Checkpoint> getCheckpointMarkCoder() {
    return SerializableCoder.of(Checkpoint.class);
  }

  @Override
  public Coder<SourceRecord> getOutputCoder() {
    return SourceRecord.Coder.of();
  }

  @Override
  public void validate() {
    KafkaRangeSource.validate(kafka);
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    KafkaRangeSource.display(builder, kafka, ranges);
  }

  /** Each partition's next offset to read and newest event time read (millis; MIN if none). */
  public static final class Checkpoint implements UnboundedSource.CheckpointMark, Serializable {
    private static final long serialVersionUID = 1L;
    final Map<String, long[]> positions;

    Checkpoint(Map<String, long[]> positions) {
      this.positions = positions;
    }

    @Override
    public void finalizeCheckpoint() {
      // nothing to commit: the ranges are fixed and no consumer group is used
    }
  }

  /** Progress of one range. */
  private static final class Partition {
    final PartitionRange range;
    final TopicPartition tp;
    final long seam; // the first offset read from Kafka; below it, the archive
    long next;
    long newest; // millis, BoundedWindow.TIMESTAMP_MIN_VALUE when none is known
    LogArchive.Cursor cursor; // open while reading the archive

    Partition(PartitionRange range, long seam, long next, long newest) {
      this.range = range;
      this.tp = new TopicPartition(range.topic(), range.partition());
      this.seam = seam;
      this.next = next;
      this.newest = newest;
    }

    /** Still below the seam: the next records come from the archive. */
    boolean inArchive() {
      return next < Math.min(seam, range.end());
    }

    boolean done() {
      return next >= range.end();
    }

    String key() {
      return range.topic() + "/" + range.partition();
    }
  }

  /** Reads the split's ranges with one manually assigned consumer. */
  static final class Reader extends UnboundedReader<SourceRecord> {
    private static final long MIN = BoundedWindow.TIMESTAMP_MIN_VALUE.getMillis();

    private final KafkaRangeUnboundedSource source;
    private final PipelineOptions options;
    private final Map<TopicPartition, Partition> partitions = new HashMap<>();
    private final java.util.ArrayDeque<Partition> archived = new java.util.ArrayDeque<>();

    /** Archive records served since the last Kafka poll (the two take turns). */
    private int archiveTurn;

    private KafkaConsumer<byte[], byte[]> consumer;
    private Iterator<ConsumerRecord<byte[], byte[]>> polled = Collections.emptyIterator();
    private SourceRecord current;
    private Instant currentTimestamp;

    Reader(
        KafkaRangeUnboundedSource source,
        @Nullable Checkpoint checkpoint,
        PipelineOptions options) {
      this.source = source;
      this.options = options;
      for (PartitionRange r : source.ranges) {
        long[] saved = checkpoint == null ? null : checkpoint.positions.get(key(r));
        long seam = source.seams.getOrDefault(key(r), r.start());
        Partition p =
            saved == null
                ? new Partition(r, seam, r.start(), MIN)
                : new Partition(r, seam, saved[0], saved[1]);
        partitions.put(p.tp, p);
        if (p.inArchive()) {
          archived.add(p);
        }
      }
    }

    @Override
    public boolean start() throws IOException {
      Properties p =
          source.kafka.properties(
              Map.of(
                  ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000",
                  ConsumerConfig.FETCH_MAX_BYTES_CONFIG, String.valueOf(32 << 20),
                  ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, String.valueOf(8 << 20)));
      p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
      consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
      List<TopicPartition> open = new ArrayList<>();
      for (Partition part : partitions.values()) {
        if (!part.done() && !part.inArchive()) {
          open.add(part.tp);
        }
      }
      consumer.assign(open);
      for (TopicPartition tp : open) {
        consumer.seek(tp, partitions.get(tp).next);
      }
      return advance();
    }

    @Override
    public boolean advance() throws IOException {
      while (true) {
        while (polled.hasNext()) {
          ConsumerRecord<byte[], byte[]> r = polled.next();
          Partition part = partitions.get(new TopicPartition(r.topic(), r.partition()));
          if (part == null || part.done() || r.offset() < part.next) {
            continue;
          }
          if (r.offset() >= part.range.end()) {
            finish(part);
            continue;
          }
          part.next = r.offset() + 1;
          current =
              new SourceRecord(
                  r.topic(),
                  r.partition(),
                  r.offset(),
                  r.key(),
                  r.value(),
                  KafkaSources.headers(r.headers()));
          currentTimestamp = EventTimes.of(source.format, r.value());
          if (currentTimestamp.getMillis() > part.newest) {
            part.newest = currentTimestamp.getMillis();
          }
          if (part.done()) {
            finish(part);
          }
          return true;
        }
        if (!archived.isEmpty() && archiveTurn < ARCHIVE_TURN) {
          if (nextFromArchive()) {
            archiveTurn++;
            return true;
          }
          continue;
        }
        archiveTurn = 0;
        boolean kafkaOpen = retireCaughtUp();
        if (!kafkaOpen && archived.isEmpty()) {
          return false; // every range read
        }
        polled =
            kafkaOpen
                ? consumer.poll(Duration.ofMillis(20)).iterator()
                : Collections.emptyIterator();
        if (!polled.hasNext() && archived.isEmpty()) {
          return false;
        }
      }
    }

    /** Archive records served before Kafka's turn. */
    private static final int ARCHIVE_TURN = 500;

    /**
     * The next record of the first partition still in the archive (each takes its turn in order); a
     * partition whose archive part is read switches to Kafka at its seam. False when none was
     * produced this time (a partition switched).
     */
    private boolean nextFromArchive() throws IOException {
      Partition part = archived.poll();
      if (part.cursor == null) {
        part.cursor =
            source.archive.open(
                part.range.topic(),
                part.range.partition(),
                part.next,
                Math.min(part.seam, part.range.end()),
                options);
      }
      SourceRecord r = part.cursor.next();
      if (r == null) {
        part.cursor.close();
        part.cursor = null;
        part.next = Math.min(part.seam, part.range.end());
        if (part.done()) {
          finish(part);
        } else {
          List<TopicPartition> assigned = new ArrayList<>(consumer.assignment());
          assigned.add(part.tp);
          consumer.assign(assigned);
          consumer.seek(part.tp, part.next);
        }
        return false;
      }
      archived.add(part); // round robin over the partitions in the archive
      part.next = r.offset() + 1;
      current = r;
      currentTimestamp = EventTimes.of(source.format, r.value());
      if (currentTimestamp.getMillis() > part.newest) {
        part.newest = currentTimestamp.getMillis();
      }
      return true;
    }

    /**
     * Stops reading the partitions whose position reached their end (the last offsets of a range
     * may be transaction markers or compacted away); false when none is left to read.
     */
    private boolean retireCaughtUp() {
      boolean open = false;
      for (Partition part : partitions.values()) {
        if (part.inArchive()) {
          continue;
        }
        if (!part.done() && consumer.position(part.tp) >= part.range.end()) {
          part.next = part.range.end();
          finish(part);
        }
        open |= !part.done();
      }
      return open;
    }

    private void finish(Partition part) {
      part.next = Math.max(part.next, part.range.end());
      List<TopicPartition> still = new ArrayList<>(consumer.assignment());
      if (still.remove(part.tp)) {
        consumer.assign(still);
      }
    }

    @Override
    public SourceRecord getCurrent() {
      if (current == null) {
        throw new NoSuchElementException();
      }
      return current;
    }

    @Override
    public Instant getCurrentTimestamp() {
      if (current == null) {
        throw new NoSuchElementException();
      }
      return currentTimestamp;
    }

    @Override
    public Instant getWatermark() {
      long watermark = Long.MAX_VALUE;
      for (Partition part : partitions.values()) {
        if (!part.done()) {
          long w = part.newest > MIN ? part.newest - source.maxOutOfOrderness.getMillis() : MIN;
          watermark = Math.min(watermark, w);
        }
      }
      return watermark == Long.MAX_VALUE
          ? BoundedWindow.TIMESTAMP_MAX_VALUE
          : new Instant(Math.max(watermark, MIN));
    }

    @Override
    public Checkpoint getCheckpointMark() {
      Map<String, long[]> positions = new HashMap<>();
      for (Partition part : partitions.values()) {
        positions.put(part.key(), new long[] {part.next, part.newest});
      }
      return new Checkpoint(positions);
    }

    @Override
    public UnboundedSource<SourceRecord, ?> getCurrentSource() {
      return source;
    }

    @Override
    public void close() throws IOException {
      for (Partition part : partitions.values()) {
        if (part.cursor != null) {
          part.cursor.close();
        }
      }
      if (consumer != null) {
        consumer.close(Duration.ofSeconds(5));
      }
    }
  }
}
