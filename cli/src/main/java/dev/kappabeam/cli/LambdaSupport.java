package dev.kappabeam.cli;

import dev.kappabeam.pipelines.KappaBeamPipeline;
import dev.kappabeam.serving.StoreConfig;
import dev.kappabeam.transforms.views.ViewDefinition;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;

/** Shared pieces of kb batch, kb speed and kb lambda: the views selected and the inner kb run. */
final class LambdaSupport {
  private LambdaSupport() {}

  static List<ViewDefinition> views(String names) {
    return KappaBeamPipeline.views(names);
  }

  static String names(List<ViewDefinition> views) {
    return String.join(",", views.stream().map(ViewDefinition::name).toList());
  }

  static StoreConfig store(Connections c) {
    return c.store();
  }

  /**
   * Runs {@code kb run} in this process with the given arguments plus the connection settings, and
   * the Lambda deployment's logic as it is (batch and speed runs must use the same).
   */
  static void kbRun(Connections c, List<String> runArgs, LogicFlags logic, List<String> beamArgs) {
    List<String> args = new ArrayList<>(runArgs);
    args.addAll(c.forwardArgs());
    args.addAll(beamArgs);
    RunCommand run = new RunCommand();
    new CommandLine(run).parseArgs(args.toArray(new String[0]));
    run.logic = logic;
    run.run();
  }
}
