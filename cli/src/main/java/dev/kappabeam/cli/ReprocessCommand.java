package dev.kappabeam.cli;

import dev.kappabeam.kappa.JobHost;
import dev.kappabeam.kappa.JobOptions;
import dev.kappabeam.kappa.Reprocess;
import dev.kappabeam.pipelines.kafka.KafkaOffsets;
import dev.kappabeam.serving.RegisteredVersion;
import dev.kappabeam.serving.ViewRegistry;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.views.ViewDefinition;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.checkerframework.checker.nullness.qual.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/**
 * {@code kb reprocess}: the Kappa reprocess of one view ({@link Reprocess}: build a new version
 * from the log while the live one serves, cut over when it has caught up, resume a version whose
 * job died) behind flags. Progress goes to stderr, the caught-up and cutover results to stdout.
 */
@Command(
    name = "reprocess",
    description = {
      "Reprocess a view into a new version from the log while the live version keeps serving,",
      "then cut over atomically when it has caught up. Unknown --flags go to Beam."
    })
final class ReprocessCommand implements Callable<Integer> {
  @Mixin HelpOption help;

  @Mixin Connections connections;

  @Mixin OutageGrace outageGrace;

  @Spec CommandSpec spec;

  @Option(names = "--view", required = true, description = "The view to reprocess.")
  String viewName;

  @Option(names = "--version", required = true, description = "The new version, e.g. v2.")
  String version;

  @Option(
      names = "--topic",
      description = "The event-log topic (default: the live version's topic).")
  String topic;

  @Option(
      names = "--from",
      defaultValue = "earliest",
      description = "earliest | ISO-8601 instant to replay from (default ${DEFAULT-VALUE}).")
  String from;

  @Option(
      names = "--caught-up-lag",
      defaultValue = "0",
      description =
          "Caught up when the lag is at most this many records (default ${DEFAULT-VALUE}).")
  long caughtUpLag;

  @Option(
      names = "--caught-up-for",
      defaultValue = "PT10S",
      description =
          "... continuously for this long, with the table unchanged (default ${DEFAULT-VALUE}).")
  String caughtUpFor;

  @Option(
      names = "--stale-after",
      defaultValue = "PT15S",
      description = "A job whose heartbeat is older is dead (default ${DEFAULT-VALUE}).")
  String staleAfter;

  @Option(
      names = "--exit-after-cutover",
      description =
          "Stop the new version's job after the cutover and exit (default: keep running it, so"
              + " the live view stays fresh, until Ctrl-C).")
  boolean exitAfterCutover;

  @Option(
      names = "--no-cutover",
      description = "Only build and catch up; cut over with kb cutover.")
  boolean noCutover;

  // Logic flags: when none is given, a resumed version keeps the ones it was started with.
  @Mixin LogicFlags logic;

  @Unmatched List<String> beamArgs = new ArrayList<>();

  @Override
  public Integer call() {
    ViewDefinition view = ViewsCommand.view(viewName);
    ViewStore.tableName(view, version);
    JobOptions jobs =
        new FlagJobOptions(
            "reprocess",
            beamArgs,
            connections,
            outageGrace,
            logic,
            () -> LogicFlags.anyGiven(spec));
    Reprocess.Request request =
        new Reprocess.Request(
            view,
            version,
            topic,
            from,
            caughtUpLag,
            RegistryCommands.duration(caughtUpFor, "--caught-up-for"),
            RegistryCommands.duration(staleAfter, "--stale-after"),
            !noCutover,
            exitAfterCutover);
    if (!"earliest".equals(from)) {
      KafkaOffsets.parseStartPoint(from);
    }
    try (ViewStore probe = new ViewStore(connections.store())) {
      probe.tableExists(view, version); // an unreachable store fails here at once (exit 3)
    }
    // From here on the controller rides out outages of the store for the grace, as its job does.
    new Reprocess(outageGrace.apply(connections.store()), request, jobs, new Printer()).run();
    return ExitCodes.OK;
  }

  /** Progress on stderr; the caught-up and cutover results on stdout. */
  private static final class Printer implements Reprocess.Listener {
    @Override
    public void info(String line) {
      System.err.println(line);
    }

    @Override
    public void caughtUp(ViewDefinition view, String version) {
      System.out.println(
          version
              + " of "
              + view.name()
              + " caught up; cut over with: kb cutover --view "
              + view.name()
              + " --version "
              + version);
    }

    @Override
    public void cutOver(
        ViewDefinition view,
        String version,
        ViewRegistry.Switch sw,
        @Nullable RegisteredVersion previous) {
      if (sw.at() == null) {
        System.out.println(
            view.name() + " reads " + version + " already (live since before this run)");
        return;
      }
      System.out.println(
          "cut over: "
              + view.name()
              + " now reads "
              + version
              + (sw.previous() == null
                  ? ""
                  : " (" + sw.previous() + " retired, kept for rollback)"));
      if (previous != null) {
        System.out.println(JobHost.stopHint(previous, JobHost.DEFAULT_STALE_AFTER));
      }
    }
  }
}
