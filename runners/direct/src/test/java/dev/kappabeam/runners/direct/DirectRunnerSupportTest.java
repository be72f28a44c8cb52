package dev.kappabeam.runners.direct;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.pipelines.KappaBeamPipeline;
import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.pipelines.runner.RunnerSupports;
import java.util.List;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.runners.direct.DirectRunner;
import org.junit.jupiter.api.Test;

/**
 * The DirectRunner defaults reach the pipeline's {@code main} (the shaded direct jar's entry point)
 * through the registered {@link DirectRunnerSupport}, with or without {@code --runner}.
 */
class DirectRunnerSupportTest {
  /** The main's options with what validation requires (nothing is run). */
  private static KappaBeamOptions options(String... flags) {
    List<String> args =
        new java.util.ArrayList<>(
            List.of(
                "--topic=events",
                "--bootstrapServers=127.0.0.1:9",
                "--jdbcUrl=jdbc:h2:mem:x",
                "--viewVersion=v1"));
    args.addAll(List.of(flags));
    return KappaBeamPipeline.options(args.toArray(new String[0]));
  }

  @Test
  void theMainRunsStreamingOnOneWorkerThreadAndHistoricalOnThePool() {
    KappaBeamOptions streaming = options("--mode=STREAMING");
    assertEquals(DirectRunner.class, streaming.getRunner());
    assertEquals(1, streaming.as(DirectOptions.class).getTargetParallelism());
    assertFalse(streaming.as(DirectOptions.class).isEnforceImmutability());
    assertFalse(streaming.as(DirectOptions.class).isEnforceEncodability());

    KappaBeamOptions drained =
        options("--runner=DirectRunner", "--mode=STREAMING", "--drainWhenCaughtUp=true");
    assertEquals(1, drained.as(DirectOptions.class).getTargetParallelism());

    KappaBeamOptions historical = options("--mode=HISTORICAL");
    int pool = historical.as(DirectOptions.class).getTargetParallelism();
    assertTrue(pool >= 1);
    assertEquals(
        new DirectOptions.AvailableParallelismFactory().create(historical), pool, "the default");
  }

  @Test
  void whatTheCallerSetsWins() {
    KappaBeamOptions o =
        options("--mode=STREAMING", "--targetParallelism=4", "--enforceImmutability=true");
    assertEquals(4, o.as(DirectOptions.class).getTargetParallelism());
    assertTrue(o.as(DirectOptions.class).isEnforceImmutability());
  }

  @Test
  void otherRunnersGetNone() {
    assertEquals(
        List.of("--runner=SomeOtherRunner", "--mode=STREAMING"),
        RunnerSupports.withDefaults(List.of("--runner=SomeOtherRunner", "--mode=STREAMING")));
  }
}
