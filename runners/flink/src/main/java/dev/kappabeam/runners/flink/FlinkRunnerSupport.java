package dev.kappabeam.runners.flink;

import dev.kappabeam.pipelines.runner.RunnerSupport;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.apache.beam.sdk.options.ExperimentalOptions;
import org.apache.beam.sdk.options.PipelineOptions;

/** Registers {@link FlinkDefaults} for {@code --runner=FlinkRunner}; Flink runs every mode. */
public final class FlinkRunnerSupport implements RunnerSupport {
  @Override
  public String runnerName() {
    return "FlinkRunner";
  }

  @Override
  public List<String> defaultFlags() {
    return FlinkDefaults.FLAGS;
  }

  @Override
  public List<String> defaultFlags(List<String> args, Optional<Path> localDataDir) {
    return FlinkDefaults.flags(args, localDataDir);
  }

  /**
   * Yes, on the classic runner: Beam 2.62's Flink runner holds the splittable Kafka read's output
   * watermark at the minimum until every partition is read and places each descriptor by a random
   * key, where Flink's own source wrapper moves the watermark as the readers report it and deals
   * splits round-robin (runners/flink/README.md, "The drained read"). Not with the portable {@code
   * beam_fn_api} experiment, whose reads go through the SDK harness.
   */
  @Override
  public boolean readsDrainedRangesAsUnboundedSource(PipelineOptions options) {
    return !ExperimentalOptions.hasExperiment(options, "beam_fn_api");
  }
}
