package dev.kappabeam.pipelines.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.pipelines.options.RunMode;
import java.util.List;
import java.util.Optional;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.PipelineRunner;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;

class RunnerSupportsTest {
  /** A runner only this test names, so the support below touches no other test. */
  public static final class TestOnlyRunner extends PipelineRunner<PipelineResult> {
    public static TestOnlyRunner fromOptions(PipelineOptions options) {
      return new TestOnlyRunner();
    }

    @Override
    public PipelineResult run(Pipeline pipeline) {
      throw new UnsupportedOperationException("never runs");
    }
  }

  /** Registered in this module's test resources for {@link TestOnlyRunner}. */
  public static final class RefusingRunnerSupport implements RunnerSupport {
    @Override
    public String runnerName() {
      return "TestOnlyRunner";
    }

    @Override
    public List<String> defaultFlags() {
      return List.of("--targetParallelism=3", "--blockOnRun=false");
    }

    @Override
    public Optional<String> refusal(KappaBeamOptions options) {
      return options.getMode() == RunMode.HISTORICAL
          ? Optional.of("no historical runs here; use streaming")
          : Optional.empty();
    }
  }

  @Test
  void runnerNameIsTheLastRunnerFlagOrDirectRunner() {
    assertEquals("DirectRunner", RunnerSupports.runnerName(List.of("--topic=t")));
    assertEquals(
        "FlinkRunner",
        RunnerSupports.runnerName(
            List.of("--runner=SparkRunner", "--runner=org.apache.beam.runners.flink.FlinkRunner")));
  }

  @Test
  void defaultsAreAddedOnlyForOptionsTheArgumentsDoNotSet() {
    assertEquals(
        List.of("--runner=TestOnlyRunner", "--blockOnRun", "--targetParallelism=3"),
        RunnerSupports.withDefaults(List.of("--runner=TestOnlyRunner", "--blockOnRun")));
    assertEquals(
        List.of("--runner=TestOnlyRunner", "--targetParallelism=1", "--blockOnRun=false"),
        RunnerSupports.withDefaults(List.of("--runner=TestOnlyRunner", "--targetParallelism=1")));
    assertEquals(
        List.of("--targetParallelism=1"),
        RunnerSupports.withDefaults(List.of("--targetParallelism=1")),
        "DirectRunner (the default) registers no defaults");
    assertEquals(
        List.of("--runner=NoSuchRunner"),
        RunnerSupports.withDefaults(List.of("--runner=NoSuchRunner")));
  }

  @Test
  void aRefusedRunFailsWithTheRunnersReason() {
    KappaBeamOptions historical =
        PipelineOptionsFactory.fromArgs("--mode=HISTORICAL").as(KappaBeamOptions.class);
    historical.setRunner(TestOnlyRunner.class);
    UnsupportedRunException e =
        assertThrows(UnsupportedRunException.class, () -> RunnerSupports.check(historical));
    assertEquals("no historical runs here; use streaming", e.getMessage());
    assertTrue(e instanceof IllegalArgumentException, "the CLI reports it as a usage error");

    KappaBeamOptions streaming =
        PipelineOptionsFactory.fromArgs("--mode=STREAMING").as(KappaBeamOptions.class);
    streaming.setRunner(TestOnlyRunner.class);
    RunnerSupports.check(streaming);
  }
}
