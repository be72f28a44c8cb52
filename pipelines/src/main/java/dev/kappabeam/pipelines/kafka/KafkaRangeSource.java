package dev.kappabeam.pipelines.kafka;

import dev.kappabeam.transforms.events.SourceRecord;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Properties;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.ListCoder;
import org.apache.beam.sdk.io.BoundedSource;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.joda.time.Instant;

/**
 * A bounded read of fixed offset ranges of Kafka partitions: the historical mode's source.
 *
 * <p>Reads exactly {@code [start, end)} of each partition (end offsets are snapshotted by the
 * caller at launch), so a historical run is reproducible and ends on its own. Splits by partition
 * and, for large partitions, by offset sub-range, so a backfill of one partition can spread over
 * workers. Records are emitted at the minimum timestamp: {@code ParseEvents} stamps each event with
 * its event time (moving a timestamp forward is always allowed), and in a bounded run nothing is
 * late. Counter {@code historical_records_read} (namespace kappa-beam) reports progress. Uses a
 * plain {@link KafkaConsumer} with manual assignment: no consumer group, nothing committed.
 *
 * <p>Each element is a run of up to {@link #BATCH_RECORDS} consecutive records of one partition
 * ({@link KafkaSources#historical} unbatches them): runners pay a fixed cost per source element
 * (Beam 2.62's Flink batch source re-reads every metric of the step after each {@code advance}), so
 * one element per record made that the read's largest cost.
 */
public final class KafkaRangeSource<T> extends BoundedSource<List<T>> {
  /** Turns a consumed record into the source's element type (on the worker, per record). */
  public interface RecordMapper<T> extends java.io.Serializable {
    T map(ConsumerRecord<byte[], byte[]> record);
  }

  /** Records per emitted element at most. */
  static final int BATCH_RECORDS = 500;

  /** Rough record size, used only to turn desired bundle bytes into a record count. */
  static final long ESTIMATED_RECORD_BYTES = 200;

  static final String COUNTER = "historical_records_read";

  /** A read that makes no progress for this long fails instead of hanging. */
  static final long STALL_NANOS = 120_000_000_000L;

  private final KafkaClientConfig kafka;
  private final List<PartitionRange> ranges;
  private final RecordMapper<T> mapper;
  private final Coder<T> coder;

  private KafkaRangeSource(
      KafkaClientConfig kafka,
      List<PartitionRange> ranges,
      RecordMapper<T> mapper,
      Coder<T> coder) {
    this.kafka = kafka;
    this.ranges = List.copyOf(ranges);
    this.mapper = mapper;
    this.coder = coder;
  }

  /**
   * The pipelines' source: records as {@link SourceRecord}s, read with {@code kafka}'s properties
   * file, read on the worker when a reader starts.
   */
  public static KafkaRangeSource<SourceRecord> of(
      KafkaClientConfig kafka, List<PartitionRange> ranges) {
    return of(kafka, ranges, KafkaRangeSource::sourceRecord, SourceRecord.Coder.of());
  }

  /** The ranges' records as {@code mapper} makes them, encoded with {@code coder}. */
  public static <T> KafkaRangeSource<T> of(
      KafkaClientConfig kafka,
      List<PartitionRange> ranges,
      RecordMapper<T> mapper,
      Coder<T> coder) {
    return new KafkaRangeSource<>(kafka, ranges, mapper, coder);
  }

  private static SourceRecord sourceRecord(ConsumerRecord<byte[], byte[]> r) {
    return new SourceRecord(
        r.topic(),
        r.partition(),
        r.offset(),
        r.key(),
        r.value(),
        KafkaSources.headers(r.headers()));
  }

  public List<PartitionRange> ranges() {
    return ranges;
  }

  /** Records in all ranges. */
  public long totalRecords() {
    return ranges.stream().mapToLong(PartitionRange::size).sum();
  }

  @Override
  public List<KafkaRangeSource<T>> split(long desiredBundleSizeBytes, PipelineOptions options) {
    long perBundle = Math.max(1_000, desiredBundleSizeBytes / ESTIMATED_RECORD_BYTES);
    List<KafkaRangeSource<T>> out = new ArrayList<>();
    for (PartitionRange r : ranges) {
      if (r.size() == 0) {
        continue;
      }
      for (long s = r.start(); s < r.end(); s += perBundle) {
        out.add(
            new KafkaRangeSource<>(
                kafka, List.of(r.withRange(s, Math.min(r.end(), s + perBundle))), mapper, coder));
      }
    }
    if (out.isEmpty()) {
      out.add(this);
    }
    return out;
  }

  @Override
  public long getEstimatedSizeBytes(PipelineOptions options) {
    return totalRecords() * ESTIMATED_RECORD_BYTES;
  }

  @Override
  public BoundedReader<List<T>> createReader(PipelineOptions options) {
    return new Reader<>(this);
  }

  /**
   * A reader of these ranges outside a pipeline's source step (a step that reads a range per
   * element, as the archiver does per file), with the same consumer settings and checks.
   */
  public BoundedReader<List<T>> reader() {
    return new Reader<>(this);
  }

  @Override
  public Coder<List<T>> getOutputCoder() {
    return ListCoder.of(coder);
  }

  @Override
  public void validate() {
    validate(kafka);
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    display(builder, kafka, ranges);
  }

  /** Both range sources' {@code validate}. */
  static void validate(KafkaClientConfig kafka) {
    if (kafka == null) {
      throw new IllegalArgumentException("bootstrap servers are required");
    }
  }

  /** Both range sources' display data: the cluster, the properties file's path, the ranges. */
  static void display(
      DisplayData.Builder builder, KafkaClientConfig kafka, List<PartitionRange> ranges) {
    builder.add(DisplayData.item("bootstrapServers", kafka.bootstrapServers()));
    kafka.file().ifPresent(f -> builder.add(DisplayData.item("kafkaConfigFile", f)));
    builder.add(DisplayData.item("ranges", ranges.toString()));
  }

  /** Reads the ranges one after the other with a manually assigned consumer. */
  static final class Reader<T> extends BoundedReader<List<T>> {
    private final KafkaRangeSource<T> source;
    private final Deque<PartitionRange> pending;
    private final Counter read = Metrics.counter("kappa-beam", COUNTER);
    private KafkaConsumer<byte[], byte[]> consumer;
    private PartitionRange range;
    private java.util.Iterator<ConsumerRecord<byte[], byte[]>> batch =
        java.util.Collections.emptyIterator();
    private List<T> current;
    private long lastProgress = System.nanoTime();

    Reader(KafkaRangeSource<T> source) {
      this.source = source;
      this.pending = new ArrayDeque<>(source.ranges);
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
      return advance();
    }

    @Override
    public boolean advance() throws IOException {
      List<T> next = new ArrayList<>(BATCH_RECORDS);
      while (next.size() < BATCH_RECORDS && nextRecord(next)) {
        // one partition's records from the last poll, up to the batch size
        if (!batch.hasNext()) {
          break;
        }
      }
      if (next.isEmpty()) {
        current = null;
        return false;
      }
      read.inc(next.size());
      current = next;
      return true;
    }

    /** Adds the next record of the ranges to {@code out}; false when all ranges are read. */
    private boolean nextRecord(List<T> out) throws IOException {
      while (true) {
        if (range != null && batch.hasNext()) {
          ConsumerRecord<byte[], byte[]> r = batch.next();
          if (r.offset() >= range.end()) {
            batch = java.util.Collections.emptyIterator();
            range = null;
            continue;
          }
          out.add(source.mapper.map(r));
          return true;
        }
        if (range != null) {
          TopicPartition tp = new TopicPartition(range.topic(), range.partition());
          if (consumer.position(tp) >= range.end()) {
            range = null; // done (the last offsets may be transaction markers or compacted away)
            continue;
          }
          if (!out.isEmpty()) {
            return false; // emit what is held before waiting on the next poll
          }
          batch = consumer.poll(Duration.ofMillis(500)).records(tp).iterator();
          if (batch.hasNext()) {
            lastProgress = System.nanoTime();
          } else if (System.nanoTime() - lastProgress > STALL_NANOS) {
            throw new IOException(
                "no records from "
                    + tp
                    + " for "
                    + STALL_NANOS / 1_000_000_000L
                    + " s at offset "
                    + consumer.position(tp)
                    + " of "
                    + range
                    + "; is the broker at "
                    + source.kafka.bootstrapServers()
                    + " up, and were these offsets deleted by retention?");
          }
          continue;
        }
        PartitionRange next = pending.poll();
        if (next == null) {
          return false;
        }
        if (next.size() == 0) {
          continue;
        }
        TopicPartition tp = new TopicPartition(next.topic(), next.partition());
        consumer.assign(List.of(tp));
        consumer.seek(tp, next.start());
        range = next;
        lastProgress = System.nanoTime();
        batch = java.util.Collections.emptyIterator();
      }
    }

    @Override
    public List<T> getCurrent() {
      if (current == null) {
        throw new NoSuchElementException();
      }
      return current;
    }

    @Override
    public Instant getCurrentTimestamp() {
      return BoundedWindow.TIMESTAMP_MIN_VALUE;
    }

    @Override
    public void close() {
      if (consumer != null) {
        consumer.close(Duration.ofSeconds(5));
      }
    }

    @Override
    public BoundedSource<List<T>> getCurrentSource() {
      return source;
    }
  }
}
