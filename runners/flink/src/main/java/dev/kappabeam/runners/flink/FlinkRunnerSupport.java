package dev.kappabeam.runners.flink;

import dev.kappabeam.pipelines.runner.RunnerSupport;
import java.util.List;

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
}
