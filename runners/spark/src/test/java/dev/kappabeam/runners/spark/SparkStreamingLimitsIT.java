package dev.kappabeam.runners.spark;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.pipelines.KappaBeamPipeline;
import dev.kappabeam.pipelines.ViewSinks;
import dev.kappabeam.pipelines.kafka.KafkaClientConfig;
import dev.kappabeam.pipelines.kafka.KafkaOffsets;
import dev.kappabeam.pipelines.kafka.KafkaSources;
import dev.kappabeam.pipelines.kafka.PartitionRange;
import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.pipelines.runner.RunnerSupports;
import dev.kappabeam.pipelines.sinks.KafkaSinks;
import dev.kappabeam.pipelines.sinks.ServingSinks;
import dev.kappabeam.runners.testkit.ParityFixture;
import dev.kappabeam.transforms.ReferenceViews;
import dev.kappabeam.transforms.events.ReferenceFormat;
import dev.kappabeam.transforms.events.SourceRecord;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.Views;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.POutput;
import org.apache.beam.sdk.values.Row;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.joda.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Why {@link SparkRunnerSupport} refuses streaming: the reference pipeline, built past the refusal
 * and run on Beam 2.62.0's Spark runner against a real broker, is rejected by the runner itself,
 * for the reasons the refusal names. If a Beam upgrade makes one of these runs start, this test
 * fails: then run the parity fixture in that mode on Spark and lift the refusal if it passes. (Beam
 * stops the SparkContext when translation fails, so the tests do not disturb each other.)
 */
@Tag("matrix")
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class SparkStreamingLimitsIT {
  @TempDir static Path tempDir;

  private static ParityFixture fixture;

  @BeforeAll
  static void produceWorkload() throws Exception {
    fixture = ParityFixture.start(tempDir.resolve("stack"), "spark-limits", 2000);
  }

  @AfterAll
  static void stopStack() {
    if (fixture != null) {
      fixture.close();
    }
  }

  /** Open-ended streaming: KafkaIO's (legacy) unbounded read translates; the timers do not. */
  @Test
  void sparkStreamingRejectsTheTimersOfTheStreamingPath() {
    KappaBeamOptions o = options("s1", "--mode=STREAMING");
    Pipeline p =
        pipeline(
            o,
            KafkaSources.streaming(
                KafkaClientConfig.of(o.getBootstrapServers()),
                o.getTopic(),
                "spark-limits-s1",
                "earliest",
                Duration.standardSeconds(10),
                ReferenceFormat.of()));
    RuntimeException e = assertThrows(RuntimeException.class, p::run);
    assertTrue(causes(e).contains("cannot yet be used with timers in the SparkRunner"), causes(e));
    // The first stateful step it meets: the de-duplication and late split's (its clock or the
    // bucket step, whichever the translation visits first).
    assertTrue(causes(e).contains("transforms.time.SplitLateEvents$"), causes(e));
  }

  /** Drained streaming: the splittable Kafka read is rejected first. */
  @Test
  void sparkStreamingRejectsTheSplittableDrainedRead() throws Exception {
    KappaBeamOptions o = options("d1", "--mode=STREAMING", "--drainWhenCaughtUp=true");
    Pipeline p =
        pipeline(
            o,
            KafkaSources.drained(
                KafkaClientConfig.of(o.getBootstrapServers()),
                ranges(o),
                Duration.ZERO,
                ReferenceFormat.of()));
    RuntimeException e = assertThrows(RuntimeException.class, p::run);
    assertTrue(causes(e).contains("Not expected to directly translate splittable DoFn"), causes(e));
    assertTrue(causes(e).contains("ReadFromKafkaDoFn"), causes(e));
  }

  private static KappaBeamOptions options(String version, String... modeFlags) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--runner=SparkRunner",
                "--sparkMaster=local[2]",
                "--bootstrapServers=" + fixture.stack().bootstrapServers(),
                "--topic=" + fixture.topic(),
                "--jdbcUrl=" + fixture.stack().jdbcUrl(),
                "--jdbcUser=" + fixture.stack().jdbcUser(),
                "--viewVersion=" + version,
                "--checkpointDir=" + tempDir.resolve("checkpoint-" + version)));
    args.addAll(List.of(modeFlags));
    return PipelineOptionsFactory.fromArgs(RunnerSupports.withDefaults(args).toArray(new String[0]))
        .withValidation()
        .as(KappaBeamOptions.class);
  }

  /** The reference pipeline as {@link KappaBeamPipeline#plan} builds it, minus the refusal. */
  private static Pipeline pipeline(
      KappaBeamOptions o, PTransform<PBegin, PCollection<SourceRecord>> source) {
    Map<ViewDefinition, PTransform<PCollection<Row>, ? extends POutput>> sinks =
        new LinkedHashMap<>();
    for (ViewDefinition v : Views.all()) {
      sinks.put(v, ServingSinks.sink(o, v));
    }
    return KappaBeamPipeline.assemble(
        Pipeline.create(o),
        source,
        ReferenceViews.of(KappaBeamPipeline.parameters(o)),
        new ViewSinks(
            sinks,
            KafkaSinks.deadLetters(
                KafkaClientConfig.of(o.getBootstrapServers()), fixture.topic() + ".dlq"),
            KafkaSinks.late(
                KafkaClientConfig.of(o.getBootstrapServers()), fixture.topic() + ".late")));
  }

  private static List<PartitionRange> ranges(KappaBeamOptions o) throws Exception {
    try (KafkaOffsets kafka = new KafkaOffsets(o.getBootstrapServers())) {
      List<TopicPartition> partitions = kafka.partitions(o.getTopic());
      return KafkaOffsets.ranges(
          partitions,
          kafka.offsets(partitions, OffsetSpec.earliest()),
          kafka.offsets(partitions, OffsetSpec.latest()));
    }
  }

  /** The messages of {@code e} and its causes, one per line. */
  private static String causes(Throwable e) {
    StringBuilder b = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      b.append(t.getClass().getName()).append(": ").append(t.getMessage()).append('\n');
    }
    return b.toString();
  }
}
