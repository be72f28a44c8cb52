package dev.kappabeam.pipelines.kafka;

import dev.kappabeam.pipelines.runner.RunnerSupport;
import dev.kappabeam.pipelines.runner.RunnerSupports;
import dev.kappabeam.transforms.events.EventFormat;
import dev.kappabeam.transforms.events.SourceRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.ByteArrayCoder;
import org.apache.beam.sdk.coders.NullableCoder;
import org.apache.beam.sdk.io.Read;
import org.apache.beam.sdk.io.kafka.KafkaIO;
import org.apache.beam.sdk.io.kafka.KafkaRecord;
import org.apache.beam.sdk.io.kafka.KafkaSourceDescriptor;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.SimpleFunction;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.joda.time.Duration;

/**
 * The Kafka source of kappa-beam in its modes, each a {@code PTransform<PBegin,
 * PCollection<SourceRecord>>} that the pipeline assembly takes as its source.
 *
 * <ul>
 *   <li>{@link #streaming}: unbounded KafkaIO read with the job version's consumer group,
 *       event-time timestamps and a per-partition bounded-out-of-orderness watermark ({@link
 *       EventTimePolicy}); offsets are committed when the runner finalizes a checkpoint.
 *   <li>{@link #drained}: the same streaming semantics over fixed offset ranges (on Flink {@link
 *       KafkaRangeUnboundedSource}, elsewhere a splittable KafkaIO read with stop offsets): the
 *       output is still unbounded, so lateness and de-duplication behave exactly as in streaming,
 *       but every partition stops at its end offset and the watermark then reaches the end, firing
 *       every window.
 *   <li>{@link #historical}: a bounded read of fixed offset ranges ({@link KafkaRangeSource}).
 * </ul>
 *
 * <p>Every consumer they create, on any worker, takes the settings of the {@link
 * KafkaClientConfig}'s properties file, read there (a consumer factory, so that no secret is in
 * KafkaIO's displayed configuration).
 */
public final class KafkaSources {
  private KafkaSources() {}

  /** Unbounded read of a topic; resumes from {@code group}'s committed offsets. */
  public static PTransform<PBegin, PCollection<SourceRecord>> streaming(
      KafkaClientConfig kafka,
      String topic,
      String group,
      String autoOffsetReset,
      Duration maxOutOfOrderness,
      EventFormat<?> format) {
    return new PTransform<>() {
      @Override
      public PCollection<SourceRecord> expand(PBegin input) {
        return input
            .apply(
                "ReadKafka",
                KafkaIO.<byte[], byte[]>read()
                    .withBootstrapServers(kafka.bootstrapServers())
                    .withConsumerFactoryFn(kafka.consumerFactory())
                    .withTopic(topic)
                    .withKeyDeserializerAndCoder(
                        ByteArrayDeserializer.class, NullableCoder.of(ByteArrayCoder.of()))
                    .withValueDeserializerAndCoder(
                        ByteArrayDeserializer.class, NullableCoder.of(ByteArrayCoder.of()))
                    .withConsumerConfigUpdates(
                        Map.of(
                            ConsumerConfig.GROUP_ID_CONFIG, group,
                            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, autoOffsetReset,
                            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false))
                    .withTimestampPolicyFactory(EventTimePolicy.factory(format, maxOutOfOrderness))
                    .commitOffsetsInFinalize())
            .apply("ToSourceRecords", MapElements.via(new ToSourceRecord()));
      }
    };
  }

  /**
   * Streaming semantics over {@code [start, end)} of each partition; stops at the ends. On Flink
   * the ranges are read as an unbounded source ({@link KafkaRangeUnboundedSource}); elsewhere with
   * KafkaIO's splittable read of descriptors (see {@link #readsRangesAsUnboundedSource}).
   */
  /**
   * A drained streaming replay of {@code ranges} from an archive below each partition's seam (the
   * first offset still in Kafka) and from Kafka from there: on every runner the range reader as an
   * unbounded source ({@link KafkaRangeUnboundedSource#withArchive}), which reads each partition in
   * offset order across the seam.
   */
  public static PTransform<PBegin, PCollection<SourceRecord>> drainedWithArchive(
      KafkaClientConfig kafka,
      List<PartitionRange> ranges,
      Duration maxOutOfOrderness,
      EventFormat<?> format,
      LogArchive archive,
      Map<Integer, Long> seams) {
    return new PTransform<>() {
      @Override
      public PCollection<SourceRecord> expand(PBegin input) {
        return input.apply(
            "ReadArchiveAndKafka",
            Read.from(
                new KafkaRangeUnboundedSource(kafka, ranges, maxOutOfOrderness, format)
                    .withArchive(archive, seams)));
      }
    };
  }

  public static PTransform<PBegin, PCollection<SourceRecord>> drained(
      KafkaClientConfig kafka,
      List<PartitionRange> ranges,
      Duration maxOutOfOrderness,
      EventFormat<?> format) {
    return new PTransform<>() {
      @Override
      public PCollection<SourceRecord> expand(PBegin input) {
        if (readsRangesAsUnboundedSource(input.getPipeline().getOptions())) {
          return input.apply(
              "ReadKafkaRanges",
              Read.from(new KafkaRangeUnboundedSource(kafka, ranges, maxOutOfOrderness, format)));
        }
        List<KafkaSourceDescriptor> descriptors = new ArrayList<>();
        for (PartitionRange r : ranges) {
          if (r.size() > 0) {
            descriptors.add(
                KafkaSourceDescriptor.of(
                    new TopicPartition(r.topic(), r.partition()),
                    r.start(),
                    null,
                    r.end(),
                    null,
                    List.of(kafka.bootstrapServers())));
          }
        }
        PCollection<KafkaSourceDescriptor> partitions =
            input.apply("Partitions", Create.of(descriptors));
        return partitions
            .apply(
                "ReadKafka",
                KafkaIO.<byte[], byte[]>readSourceDescriptors()
                    .withBootstrapServers(kafka.bootstrapServers())
                    .withConsumerFactoryFn(kafka.pooledConsumerFactory())
                    .withKeyDeserializerAndCoder(
                        ByteArrayDeserializer.class, NullableCoder.of(ByteArrayCoder.of()))
                    .withValueDeserializerAndCoder(
                        ByteArrayDeserializer.class, NullableCoder.of(ByteArrayCoder.of()))
                    .withConsumerConfigUpdates(
                        Map.of(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false))
                    .withExtractOutputTimestampFn(eventTime(format))
                    .withCreatWatermarkEstimatorFn(estimator(maxOutOfOrderness)))
            .apply("ToSourceRecords", MapElements.via(new ToSourceRecord()));
      }
    };
  }

  /**
   * Whether a drained run reads its ranges as an {@link org.apache.beam.sdk.io.UnboundedSource}:
   * where the runner's {@link RunnerSupport} says so (Flink, classic). Beam 2.62's Flink runner
   * runs KafkaIO's splittable read of descriptors with an output watermark that stays at the
   * minimum until every partition is read (measured: no window of a 4M-event replay fired before
   * its last 12 s, the de-duplication kept every id of the log, the late split never moved its
   * bound), and keyed every descriptor by a random key (all partitions could land on one subtask).
   * Elsewhere the splittable KafkaIO read stays: on DirectRunner it is the read the end-to-end
   * suites were proven with, and with either read a record far behind its own partition's newest
   * event time (a re-sent old copy) is late or not depending on how far the other partitions have
   * been read when it is (per-partition watermarks), which each read orders differently
   * (benchmarks/README.md).
   */
  static boolean readsRangesAsUnboundedSource(PipelineOptions options) {
    String runner = options.getRunner() == null ? "" : options.getRunner().getSimpleName();
    return RunnerSupports.find(runner)
        .map(s -> s.readsDrainedRangesAsUnboundedSource(options))
        .orElse(false);
  }

  /** Bounded read of {@code [start, end)} of each partition. */
  public static PTransform<PBegin, PCollection<SourceRecord>> historical(
      KafkaClientConfig kafka, List<PartitionRange> ranges) {
    return new PTransform<>() {
      @Override
      public PCollection<SourceRecord> expand(PBegin input) {
        return input
            .apply("ReadKafkaRanges", Read.from(KafkaRangeSource.of(kafka, ranges)))
            .apply("Unbatch", ParDo.of(new UnbatchFn()))
            .setCoder(SourceRecord.Coder.of());
      }
    };
  }

  /** The records of a batch (a {@link KafkaRangeSource} element, an archive read's), one by one. */
  public static final class UnbatchFn extends DoFn<List<SourceRecord>, SourceRecord> {
    @ProcessElement
    public void process(@Element List<SourceRecord> records, OutputReceiver<SourceRecord> out) {
      for (SourceRecord r : records) {
        out.output(r);
      }
    }
  }

  private static org.apache.beam.sdk.transforms.SerializableFunction<
          KafkaRecord<byte[], byte[]>, org.joda.time.Instant>
      eventTime(EventFormat<?> format) {
    return r -> EventTimes.of(format, r.getKV().getValue());
  }

  private static org.apache.beam.sdk.transforms.SerializableFunction<
          org.joda.time.Instant,
          org.apache.beam.sdk.transforms.splittabledofn.WatermarkEstimator<org.joda.time.Instant>>
      estimator(Duration bound) {
    return state -> new BoundedOutOfOrdernessEstimator(state, bound);
  }

  static final class ToSourceRecord
      extends SimpleFunction<KafkaRecord<byte[], byte[]>, SourceRecord> {
    @Override
    public SourceRecord apply(KafkaRecord<byte[], byte[]> r) {
      return new SourceRecord(
          r.getTopic(),
          r.getPartition(),
          r.getOffset(),
          r.getKV().getKey(),
          r.getKV().getValue(),
          headers(r.getHeaders()));
    }
  }

  /** A Kafka record's headers as {@link SourceRecord.Header}s, in order (none when absent). */
  static List<SourceRecord.Header> headers(@Nullable Headers headers) {
    if (headers == null) {
      return List.of();
    }
    List<SourceRecord.Header> out = new ArrayList<>();
    for (Header h : headers) {
      out.add(new SourceRecord.Header(h.key(), h.value()));
    }
    return out;
  }
}
