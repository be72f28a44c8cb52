package dev.kappabeam.cli;

import dev.kappabeam.kappa.JobHost;
import dev.kappabeam.kappa.VersionLag;
import dev.kappabeam.kappa.Versions;
import dev.kappabeam.serving.ReadProgress;
import dev.kappabeam.serving.RegisteredVersion;
import dev.kappabeam.serving.RegisteredVersion.Status;
import dev.kappabeam.serving.RegistryException;
import dev.kappabeam.serving.StoreConfig;
import dev.kappabeam.serving.ViewRegistry;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.views.ViewCatalog;
import dev.kappabeam.transforms.views.ViewDefinition;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The registry commands: {@code kb cutover}, {@code rollback}, {@code drop}, {@code status}. */
final class RegistryCommands {
  private RegistryCommands() {}

  static StoreConfig store(Connections c) {
    return c.store();
  }

  static Duration duration(String iso, String flag) {
    try {
      Duration d = Duration.parse(iso);
      if (d.isNegative()) {
        throw new IllegalArgumentException(flag + " must not be negative, got " + iso);
      }
      return d;
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(
          flag + " must be an ISO-8601 duration like PT10S, got '" + iso + "'");
    }
  }

  static RuntimeException registryError(RegistryException e) {
    return new CliException(ExitCodes.ENVIRONMENT, e.getMessage(), e);
  }

  /** {@code kb cutover --view V --version vN}. */
  @Command(
      name = "cutover",
      description = "Make a version of a view live: the alias switches in one transaction.")
  static final class Cutover implements Callable<Integer> {
    @Mixin HelpOption help;

    @Mixin Connections connections;

    @Option(names = "--view", required = true, description = "View name.")
    String view;

    @Option(names = "--version", required = true, description = "Version to make live.")
    String version;

    @Override
    public Integer call() {
      ViewDefinition v = ViewsCommand.view(view);
      try (ViewRegistry registry = new ViewRegistry(store(connections))) {
        RegisteredVersion target =
            registry
                .get(v.name(), version)
                .orElseThrow(
                    () ->
                        new CliException(
                            ExitCodes.ENVIRONMENT,
                            "version "
                                + version
                                + " of "
                                + v.name()
                                + " is not registered; see kb status --view "
                                + v.name()));
        if (target.status() == Status.BUILDING && target.caughtUpAt() == null) {
          System.err.println(
              "kb: warning: "
                  + version
                  + " has not caught up (its job is "
                  + JobHost.describe(target, JobHost.DEFAULT_STALE_AFTER)
                  + "); readers will see what it has so far");
        }
        Versions.Cutover cut = Versions.cutover(registry, v, version);
        ViewRegistry.Switch sw = cut.change();
        if (sw.at() == null) {
          System.out.println(v.name() + ": " + version + " is already live");
          return ExitCodes.OK;
        }
        System.out.println(
            "cut over: "
                + v.name()
                + " now reads "
                + version
                + (sw.previous() == null ? "" : " (" + sw.previous() + " retired)"));
        if (cut.previous() != null) {
          System.out.println(JobHost.stopHint(cut.previous(), JobHost.DEFAULT_STALE_AFTER));
        }
        return ExitCodes.OK;
      } catch (RegistryException e) {
        throw registryError(e);
      }
    }
  }

  /** {@code kb rollback --view V}. */
  @Command(
      name = "rollback",
      description = "Make the previously live version of a view live again, in one transaction.",
      mixinStandardHelpOptions = true)
  static final class Rollback implements Callable<Integer> {
    @Mixin Connections connections;

    @Option(names = "--view", required = true, description = "View name.")
    String view;

    @Override
    public Integer call() {
      ViewDefinition v = ViewsCommand.view(view);
      try (ViewRegistry registry = new ViewRegistry(store(connections))) {
        ViewRegistry.Switch sw = registry.rollback(v);
        System.out.println(
            "rolled back: "
                + v.name()
                + " now reads "
                + sw.live()
                + " ("
                + sw.previous()
                + " retired)");
        RegisteredVersion back = registry.get(v.name(), sw.live()).orElseThrow();
        String state = JobHost.describe(back, JobHost.DEFAULT_STALE_AFTER);
        if (!"running".equals(state)) {
          System.out.println(
              sw.live()
                  + "'s job is "
                  + state
                  + ": it serves its rows as of "
                  + (back.retiredAt() == null ? "its last run" : "when it was retired")
                  + "; to keep it fresh: kb run --mode streaming --topic "
                  + back.topic()
                  + " --version "
                  + sw.live()
                  + " --views "
                  + v.name()
                  + " --resume");
        }
        return ExitCodes.OK;
      } catch (RegistryException e) {
        throw registryError(e);
      }
    }
  }

  /** {@code kb drop --view V --version vN}. */
  @Command(
      name = "drop",
      description =
          "Drop a retired version: its table, its consumer group; the registry keeps it as dropped.")
  static final class Drop implements Callable<Integer> {
    @Mixin HelpOption help;

    @Mixin Connections connections;

    @Option(names = "--view", required = true, description = "View name.")
    String view;

    @Option(names = "--version", required = true, description = "Retired version to drop.")
    String version;

    @Override
    public Integer call() {
      ViewDefinition v = ViewsCommand.view(view);
      try {
        Versions.Dropped d = new Versions(store(connections), connections.kafka()).drop(v, version);
        System.out.println(
            "dropped "
                + version
                + " of "
                + v.name()
                + ": table "
                + d.table()
                + (d.tableDropped() ? " dropped" : " was already gone")
                + ", consumer group "
                + d.consumerGroup()
                + (!d.groupSharedWith().isEmpty()
                    ? " kept (still used by " + String.join(", ", d.groupSharedWith()) + ")"
                    : d.groupDeleted() ? " deleted" : " was already gone"));
        return ExitCodes.OK;
      } catch (RegistryException e) {
        throw registryError(e);
      }
    }
  }

  /** {@code kb status [--view V]}. */
  @Command(
      name = "status",
      description = "The registered versions of the views: status, job, lag, rows, fingerprint.",
      mixinStandardHelpOptions = true)
  static final class StatusCommand implements Callable<Integer> {
    @Mixin Connections connections;

    @Option(names = "--view", description = "Only this view.")
    String view;

    @Option(
        names = "--stale-after",
        defaultValue = "PT15S",
        description = "A job whose heartbeat is older is dead (default ${DEFAULT-VALUE}).")
    String staleAfter;

    @Override
    public Integer call() {
      Duration stale = duration(staleAfter, "--stale-after");
      List<ViewDefinition> views =
          view == null ? ViewCatalog.current().definitions() : List.of(ViewsCommand.view(view));
      StoreConfig config = store(connections);
      try (ViewRegistry registry = new ViewRegistry(config);
          ViewStore store = new ViewStore(config);
          ReadProgress progress = new ReadProgress(config);
          VersionLag kafka = VersionLag.of(connections.kafka())) {
        for (ViewDefinition v : views) {
          List<RegisteredVersion> versions = registry.versions(v.name());
          if (versions.isEmpty() && view == null) {
            continue;
          }
          System.out.println(
              v.name()
                  + ": live "
                  + registry.live(v.name()).orElse("-")
                  + ", previous "
                  + registry.previous(v.name()).orElse("-"));
          // The version column is as wide as the longest name (demo versions carry a timestamp).
          int width = "version".length();
          for (RegisteredVersion r : versions) {
            width = Math.max(width, r.version().length());
          }
          String format = "  %-" + width + "s %-9s %-8s %8s %8s  %-12s %-13s %-24s %-24s %s%n";
          System.out.printf(
              format,
              "version",
              "status",
              "job",
              "lag",
              "rows",
              "fingerprint",
              "runner",
              "caught up",
              "switched",
              "parameters");
          for (RegisteredVersion r : versions) {
            String lag = "-";
            String rows = "-";
            if (r.status() != Status.DROPPED) {
              lag = lag(kafka, progress, r);
              if (store.tableExists(v, r.version())) {
                rows = String.valueOf(store.progress(v, r.version()).rows());
              }
            }
            printVersion(format, v, r, JobHost.describe(r, stale), lag, rows);
          }
        }
      }
      return ExitCodes.OK;
    }

    private static void printVersion(
        String format, ViewDefinition v, RegisteredVersion r, String job, String lag, String rows) {
      System.out.printf(
          format,
          r.version(),
          r.displayStatus(),
          job,
          lag,
          rows,
          r.fingerprint(),
          r.runner(),
          time(r.caughtUpAt()),
          time(r.switchedAt()),
          r.parameters());
      if ("dead".equals(job)) {
        System.out.println(
            "    job "
                + r.jobId()
                + " is dead: no heartbeat since "
                + r.heartbeatAt()
                + " (pid "
                + r.jobPid()
                + " on "
                + r.jobHost()
                + ")"
                + (r.status() == Status.BUILDING || r.status() == Status.LIVE
                    ? "; resume with: kb reprocess --view " + v.name() + " --version " + r.version()
                    : ""));
      }
      if (RegisteredVersion.FAILED.equals(job) && r.jobError() != null) {
        System.out.println(
            "    job "
                + r.jobId()
                + " failed: "
                + r.jobError()
                + (r.status() == Status.BUILDING || r.status() == Status.LIVE
                    ? "; re-run it with kb run ... --resume, or kb reprocess --view "
                        + v.name()
                        + " --version "
                        + r.version()
                    : ""));
      }
    }

    /**
     * Records of the topic the version has not read ({@link VersionLag}, as {@code kb serve} shows
     * it): "-" when it has read nothing yet, "?" when Kafka does not answer.
     */
    private static String lag(VersionLag kafka, ReadProgress progress, RegisteredVersion r) {
      if (r.topic() == null || r.consumerGroup() == null) {
        return "-";
      }
      try {
        List<VersionLag.PartitionLag> lag = kafka.lag(r, progress);
        return VersionLag.nothingRead(lag) ? "-" : String.valueOf(VersionLag.total(lag));
      } catch (RuntimeException e) {
        return "?";
      }
    }

    private static String time(Instant t) {
      return t == null ? "-" : t.toString();
    }
  }
}
