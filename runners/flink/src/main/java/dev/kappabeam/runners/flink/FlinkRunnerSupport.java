package dev.kappabeam.runners.flink;

import dev.kappabeam.pipelines.runner.RunnerSupport;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

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
}
