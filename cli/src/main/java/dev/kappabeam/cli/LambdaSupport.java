package dev.kappabeam.cli;

import dev.kappabeam.pipelines.KappaBeamPipeline;
import dev.kappabeam.serving.StoreConfig;
import dev.kappabeam.transforms.LogicDefaults;
import dev.kappabeam.transforms.views.ViewDefinition;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** Shared pieces of kb batch, kb speed and kb lambda: the logic flags and the inner kb run. */
final class LambdaSupport {
  private LambdaSupport() {}

  /** The logic flags of a Lambda deployment; batch and speed runs must use the same ones. */
  static final class Logic {
    @Option(
        names = "--allowed-lateness",
        defaultValue = LogicDefaults.ALLOWED_LATENESS,
        description = "Allowed lateness of the speed job (default ${DEFAULT-VALUE}).")
    String allowedLateness;

    @Option(
        names = "--max-out-of-orderness",
        defaultValue = LogicDefaults.MAX_OUT_OF_ORDERNESS,
        description = "Watermark bound of the speed job (default ${DEFAULT-VALUE}).")
    String maxOutOfOrderness;

    @Option(
        names = "--dedup-horizon",
        defaultValue = LogicDefaults.DEDUP_HORIZON,
        description = "Streaming dedup horizon (default ${DEFAULT-VALUE}).")
    String dedupHorizon;

    @Option(
        names = "--session-gap",
        defaultValue = LogicDefaults.SESSION_GAP,
        description = "Session gap (default ${DEFAULT-VALUE}).")
    String sessionGap;

    @Option(
        names = "--exclude-types",
        defaultValue = LogicDefaults.EXCLUDE_TYPES,
        description = "Event types left out of the views.")
    String excludeTypes;

    List<String> args() {
      return List.of(
          "--allowed-lateness",
          allowedLateness,
          "--max-out-of-orderness",
          maxOutOfOrderness,
          "--dedup-horizon",
          dedupHorizon,
          "--session-gap",
          sessionGap,
          "--exclude-types",
          excludeTypes);
    }

    long sessionGapMillis() {
      return KappaBeamPipeline.duration(sessionGap, "--session-gap").getMillis();
    }
  }

  static List<ViewDefinition> views(String names) {
    return KappaBeamPipeline.views(names);
  }

  static String names(List<ViewDefinition> views) {
    return String.join(",", views.stream().map(ViewDefinition::name).toList());
  }

  static StoreConfig store(Connections c) {
    return c.store();
  }

  /** Runs {@code kb run} in this process with the given arguments plus the connection settings. */
  static void kbRun(Connections c, List<String> runArgs, List<String> beamArgs) {
    List<String> args = new ArrayList<>(runArgs);
    args.addAll(c.forwardArgs());
    args.addAll(beamArgs);
    RunCommand run = new RunCommand();
    new CommandLine(run).parseArgs(args.toArray(new String[0]));
    run.run();
  }
}
