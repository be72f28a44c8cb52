package dev.kappabeam.runners.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.pipelines.KappaBeamPipeline;
import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.pipelines.runner.RunnerSupports;
import dev.kappabeam.pipelines.runner.UnsupportedRunException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;

class SparkRunnerSupportTest {
  private final SparkRunnerSupport support = new SparkRunnerSupport();

  /**
   * Options as the pipeline's main builds them. The broker address points nowhere: a refused run
   * must fail before it contacts Kafka.
   */
  private static KappaBeamOptions options(String... flags) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--runner=SparkRunner",
                "--bootstrapServers=127.0.0.1:1",
                "--topic=events",
                "--jdbcUrl=jdbc:h2:mem:x",
                "--viewVersion=v1"));
    args.addAll(List.of(flags));
    return PipelineOptionsFactory.fromArgs(RunnerSupports.withDefaults(args).toArray(new String[0]))
        .withValidation()
        .as(KappaBeamOptions.class);
  }

  @Test
  void historicalRunsAreSupported() {
    assertEquals(Optional.empty(), support.refusal(options("--mode=HISTORICAL")));
    assertEquals(
        Optional.empty(),
        support.refusal(options("--mode=HISTORICAL", "--earlyFiringInterval=PT10S")));
  }

  @Test
  void openEndedStreamingIsRefusedWithTheReasonAndWhatToUseInstead() {
    String reason = support.refusal(options("--mode=STREAMING")).orElseThrow();
    assertTrue(reason.startsWith("SparkRunner cannot run --mode=STREAMING:"), reason);
    assertTrue(reason.contains("TranslationUtils.rejectTimers"), "names the Beam limitation");
    assertTrue(reason.contains("DeduplicateEvents") && reason.contains("SplitLateEvents"), reason);
    assertTrue(reason.contains("--runner=FlinkRunner"), "says what to use instead");
    assertTrue(reason.contains("--mode=HISTORICAL"), reason);
  }

  /** STREAMING is the default mode: a bare run on Spark is refused too. */
  @Test
  void theDefaultModeIsStreamingAndRefused() {
    assertTrue(support.refusal(options()).isPresent());
  }

  @Test
  void drainedStreamingIsRefusedNamingTheSplittableRead() {
    String reason =
        support.refusal(options("--mode=STREAMING", "--drainWhenCaughtUp=true")).orElseThrow();
    assertTrue(reason.contains("--drainWhenCaughtUp=true"), reason);
    assertTrue(reason.contains("Not expected to directly translate splittable DoFn"), reason);
    assertTrue(reason.contains("--runner=FlinkRunner"), reason);
  }

  @Test
  void historicalWithTheStreamingFlagIsRefused() {
    String reason = support.refusal(options("--mode=HISTORICAL", "--streaming=true")).orElseThrow();
    assertTrue(reason.contains("--streaming=true") && reason.contains("Drop --streaming"), reason);
  }

  @Test
  void planThrowsUnsupportedRunExceptionBeforeTouchingKafka() {
    for (String[] flags :
        List.of(
            new String[] {"--mode=STREAMING"},
            new String[] {"--mode=STREAMING", "--drainWhenCaughtUp=true"},
            new String[] {"--mode=HISTORICAL", "--streaming=true"})) {
      UnsupportedRunException e =
          assertThrows(UnsupportedRunException.class, () -> KappaBeamPipeline.plan(options(flags)));
      assertEquals(support.refusal(options(flags)).orElseThrow(), e.getMessage());
    }
  }

  /** The CLI shows the reason as a one-line usage error. */
  @Test
  void reasonsAreOneLine() {
    for (String reason :
        List.of(
            support.refusal(options("--mode=STREAMING")).orElseThrow(),
            support.refusal(options("--drainWhenCaughtUp=true")).orElseThrow(),
            support.refusal(options("--mode=HISTORICAL", "--streaming=true")).orElseThrow())) {
      assertTrue(!reason.contains("\n"), reason);
    }
  }
}
