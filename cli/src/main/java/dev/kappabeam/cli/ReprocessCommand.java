package dev.kappabeam.cli;

import dev.kappabeam.pipelines.KappaBeamPipeline;
import dev.kappabeam.pipelines.RunPlan;
import dev.kappabeam.pipelines.kafka.KafkaOffsets;
import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.pipelines.options.RunMode;
import dev.kappabeam.pipelines.options.StoreConfigs;
import dev.kappabeam.pipelines.runner.RunnerSupports;
import dev.kappabeam.serving.CodeVersion;
import dev.kappabeam.serving.RegisteredVersion;
import dev.kappabeam.serving.RegisteredVersion.Status;
import dev.kappabeam.serving.StoreConfig;
import dev.kappabeam.serving.VersionCounters;
import dev.kappabeam.serving.ViewRegistry;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.apache.beam.sdk.PipelineResult;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/**
 * {@code kb reprocess}: the Kappa reprocess of one view. Registers a new version as building,
 * replays the log into its own table with its own consumer group as a streaming job (in this
 * process for DirectRunner and Flink {@code [local]}) while the live version keeps serving, shows
 * the catch-up, and when the new version has caught up switches the view's alias to it in one
 * transaction, retiring the old one (whose job, if a kb process hosts it, stops itself).
 *
 * <p><b>Caught up</b> is the rule {@link dev.kappabeam.serving.CatchUp} shares with {@code kb
 * speed}, held for {@code --caught-up-for}: the job has read the backlog that existed at launch
 * (what it reports reading per partition, or its group's committed offsets), keeps up with the log
 * within {@code --caught-up-lag} records, and, when the log is quiet, its table stopped changing
 * (windows fire at the watermark, so the table then holds everything a streaming job with these
 * parameters emits for the log so far). It holds on every runner: the job reports its reads itself,
 * so no Beam metric is needed.
 *
 * <p><b>Restart.</b> The controller's state is in the registry only. Running the command again for
 * a version that is still building and whose job is dead (heartbeat stale, or its local pid gone)
 * resumes it with the recorded topic, start point and logic flags: the group is rewound to the
 * start point and the log replayed (the job's window state died with it), and the idempotent sink
 * makes the replay land exactly. A version that is live already and whose job is dead or failed
 * (the controller died after the cutover's switch) is resumed the same way, without a second
 * switch: its replay only rewrites rows with more progress, so readers of the alias see no change.
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

  private static final long TICK_MILLIS = 2000;

  /** Identifies this run's rows in kb_read_progress. */
  private final String runId = java.util.UUID.randomUUID().toString();

  @Override
  public Integer call() {
    ViewDefinition view = ViewsCommand.view(viewName);
    ViewStore.tableName(view, version);
    for (String a : beamArgs) {
      if (!a.startsWith("--")) {
        throw new IllegalArgumentException(
            "unexpected argument '" + a + "'; see kb reprocess --help");
      }
    }
    Duration hold = RegistryCommands.duration(caughtUpFor, "--caught-up-for");
    Duration stale = RegistryCommands.duration(staleAfter, "--stale-after");
    if (!"earliest".equals(from)) {
      KafkaOffsets.parseStartPoint(from);
    }
    try (ViewStore probe = new ViewStore(connections.store())) {
      probe.tableExists(view, version); // an unreachable store fails here at once (exit 3)
    }
    // From here on the controller rides out outages of the store for the grace, as its job does.
    StoreConfig storeConfig = outageGrace.apply(connections.store());
    ViewStore store = new ViewStore(storeConfig);
    ViewRegistry registry = new ViewRegistry(storeConfig);

    Optional<RegisteredVersion> existing = registry.get(view.name(), version);
    Optional<String> live = registry.live(view.name());
    LogicFlags logic = this.logic;
    boolean resume = false;
    RegisteredVersion row;
    if (existing.isPresent() && existing.get().status() != Status.DROPPED) {
      RegisteredVersion e = existing.get();
      // A controller killed after its cutover left a live version whose job is dead: running it
      // again restarts that job (the switch itself is done and is not repeated).
      boolean crashedLive =
          e.status() == Status.LIVE
              && List.of("dead", RegisteredVersion.FAILED).contains(JobHost.describe(e, stale));
      if (e.status() != Status.BUILDING && !crashedLive) {
        throw new CliException(
            ExitCodes.ENVIRONMENT,
            "version "
                + version
                + " of "
                + view.name()
                + " is already "
                + e.status().sql()
                + "; pick a new version (kb status --view "
                + view.name()
                + " lists them)");
      }
      if (JobHost.alive(e, stale)) {
        throw new CliException(
            ExitCodes.ENVIRONMENT,
            "version "
                + version
                + " of "
                + view.name()
                + " is being built by job "
                + e.jobId()
                + " (pid "
                + e.jobPid()
                + " on "
                + e.jobHost()
                + ", heartbeat "
                + Duration.between(e.heartbeatAt(), Instant.now()).toSeconds()
                + " s ago); stop that process first, or wait for it");
      }
      if (topic != null && !topic.equals(e.topic())) {
        throw new IllegalArgumentException(
            "version " + version + " reads topic " + e.topic() + ", not " + topic);
      }
      topic = e.topic();
      from = e.startPoint();
      if (LogicFlags.anyGiven(spec)) {
        String fp = fingerprint(view, options(logic, e.consumerGroup()));
        if (!fp.equals(e.fingerprint())) {
          throw new IllegalArgumentException(
              "version "
                  + version
                  + " was started with other logic ("
                  + e.parameters()
                  + ", fingerprint "
                  + e.fingerprint()
                  + "); resume it without logic flags, or pick a new version");
        }
      } else {
        logic = LogicFlags.fromRecorded(e.jobArgs());
      }
      resume = true;
      row = e;
      System.err.printf(
          "kb: resuming version %s of %s (its job %s is %s): replaying from %s%s%n",
          version,
          view.name(),
          e.jobId(),
          JobHost.describe(e, stale),
          from,
          crashedLive ? "; it is live already, so there is no cutover to make" : "");
    } else {
      if (store.tableExists(view, version)) {
        throw new CliException(
            ExitCodes.ENVIRONMENT,
            "table "
                + ViewStore.tableName(view, version)
                + " exists but the registry does not know it; pick a new version");
      }
      if (topic == null) {
        topic =
            live.flatMap(l -> registry.get(view.name(), l))
                .map(RegisteredVersion::topic)
                .orElseThrow(
                    () ->
                        new IllegalArgumentException(
                            "no live version of "
                                + view.name()
                                + " to take the topic from; pass --topic"));
      }
      String group = "kappa-beam." + topic + "." + version;
      KappaBeamOptions o = options(logic, group);
      ViewParameters params = KappaBeamPipeline.parameters(o);
      String code = RunCommand.codeVersion(view);
      row =
          registry.register(
              new RegisteredVersion(
                  view.name(),
                  version,
                  Status.BUILDING,
                  topic,
                  group,
                  from,
                  o.getRunner().getSimpleName(),
                  null,
                  null,
                  null,
                  null,
                  params.fingerprint(),
                  code,
                  CodeVersion.fingerprint(view.name(), params.fingerprint(), code),
                  LogicFlags.recorded(o),
                  null,
                  null,
                  null,
                  null,
                  null,
                  null,
                  null));
    }
    KappaBeamOptions options = options(logic, row.consumerGroup());
    RunnerSupports.check(options);
    RunCommand.ensureOutputTopics(options);
    Map<TopicPartition, Long> start;
    try (KafkaOffsets kafka = new KafkaOffsets(KappaBeamPipeline.kafkaClients(options))) {
      List<TopicPartition> partitions = kafka.partitions(topic);
      start = kafka.offsets(partitions, KafkaOffsets.parseStartPoint(from));
      // A fresh group starts at the start point; a resumed one is rewound to it (see class doc).
      kafka.commit(row.consumerGroup(), start);
    }
    store.createTable(view, version);
    RunPlan plan = KappaBeamPipeline.plan(options);
    System.err.printf(
        "kb: reprocessing %s into %s from %s of %s (group %s, %s, fingerprint %s)%s%n",
        view.name(),
        version,
        from,
        topic,
        row.consumerGroup(),
        options.getRunner().getSimpleName(),
        row.fingerprint(),
        live.map(l -> "; " + l + " keeps serving").orElse("; no version is live yet"));
    PipelineResult result = AsyncRun.start(plan.pipeline(), version);
    JobHost host =
        JobHost.started(
            registry,
            List.of(registry.get(view.name(), version).orElseThrow()),
            options.getRunner().getSimpleName(),
            result);
    host.publishingTo(new VersionCounters(storeConfig));
    Thread onExit =
        new Thread(
            () -> {
              host.stopRequested();
              cancelQuietly(result);
              host.ended(RegisteredVersion.STOPPED);
            });
    Runtime.getRuntime().addShutdownHook(onExit);
    try {
      return watch(view, store, registry, host, result, options, start, hold, resume);
    } catch (RuntimeException e) {
      if (host.hasEnded()) {
        throw e;
      }
      // The job or this controller failed (the store beyond the grace, a crashed pipeline): the
      // run is failed with its cause; only a requested stop is recorded as stopped.
      cancelQuietly(result);
      String cause = OutageGrace.cause(e);
      System.err.println("kb: the job of " + version + " failed: " + cause);
      host.failed(cause);
      throw new CliException(
          ExitCodes.RUN_FAILED,
          "the reprocess of "
              + version
              + " failed: "
              + cause
              + "; run the same kb reprocess again to resume it",
          e);
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(onExit);
      } catch (IllegalStateException shuttingDown) {
        // The hook runs: a stop was asked for.
      }
      registry.close();
      store.close();
    }
  }

  private int watch(
      ViewDefinition view,
      ViewStore store,
      ViewRegistry registry,
      JobHost host,
      PipelineResult result,
      KappaBeamOptions options,
      Map<TopicPartition, Long> start,
      Duration hold,
      boolean resume) {
    long begun = System.nanoTime();
    boolean live = false;
    try (CatchUpWatch watch =
        new CatchUpWatch(
            KappaBeamPipeline.kafkaClients(options),
            StoreConfigs.of(options),
            topic,
            options.getConsumerGroup(),
            runId,
            start,
            caughtUpLag,
            hold,
            () -> store.progress(view, version))) {
      while (true) {
        PipelineResult.State s = result.waitUntilFinish(org.joda.time.Duration.millis(TICK_MILLIS));
        if (s != null && s.isTerminal()) {
          if (s == PipelineResult.State.DONE || s == PipelineResult.State.CANCELLED) {
            host.ended(
                s == PipelineResult.State.DONE
                    ? RegisteredVersion.DONE
                    : RegisteredVersion.STOPPED);
          } else {
            host.failed("the pipeline ended in state " + s);
          }
          if (live && s == PipelineResult.State.CANCELLED) {
            return ExitCodes.OK;
          }
          throw new CliException(
              ExitCodes.RUN_FAILED, "the job of " + version + " ended in state " + s);
        }
        if (!host.beat()) {
          System.err.printf(
              "kb: %s of %s is no longer building or live; stopping its job%n",
              version, view.name());
          cancelQuietly(result);
          host.ended(RegisteredVersion.STOPPED);
          return ExitCodes.OK;
        }
        CatchUpWatch.Tick tick = watch.tick();
        host.publish(RunCommand.withRead(RunCommand.counters(result, true), tick.verdict().read()));
        ViewStore.TableProgress progress = store.progress(view, version);
        if (!live) {
          System.err.printf(
              "kb: %s %s, %,d rows, view head %s%n",
              version,
              tick.line(),
              progress.rows(),
              progress.newestEventTime() == null ? "-" : progress.newestEventTime());
        }
        if (!live && tick.verdict().caughtUp()) {
          Instant steadySince = Instant.now().minus(tick.verdict().steadyFor());
          registry.caughtUp(view.name(), version, steadySince);
          System.err.printf(
              "kb: %s caught up after %d s (%,d records read)%n",
              version, (System.nanoTime() - begun) / 1_000_000_000L, tick.verdict().read());
          if (noCutover) {
            System.out.println(
                version
                    + " of "
                    + view.name()
                    + " caught up; cut over with: kb cutover --view "
                    + view.name()
                    + " --version "
                    + version);
          } else {
            CutoverPauseForTests.beforeSwitch(version);
            cutover(view, registry);
          }
          live = true;
          if (exitAfterCutover) {
            cancelQuietly(result);
            host.ended(RegisteredVersion.STOPPED);
            System.err.println(
                "kb: stopped the job of "
                    + version
                    + " (--exit-after-cutover); restart it with: kb run --mode streaming --topic "
                    + topic
                    + " --version "
                    + version
                    + " --views "
                    + view.name()
                    + " --resume");
            return ExitCodes.OK;
          }
          System.err.println(
              "kb: this process keeps running the job of " + version + "; Ctrl-C stops it");
        }
      }
    }
  }

  private void cutover(ViewDefinition view, ViewRegistry registry) {
    ViewRegistry.Switch sw = registry.cutover(view, version);
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
            + (sw.previous() == null ? "" : " (" + sw.previous() + " retired, kept for rollback)"));
    if (sw.previous() != null) {
      registry
          .get(view.name(), sw.previous())
          .ifPresent(
              p -> System.out.println(RegistryCommands.stopHint(p, JobHost.DEFAULT_STALE_AFTER)));
    }
  }

  private KappaBeamOptions options(LogicFlags logic, String group) {
    KappaBeamOptions o =
        RunCommand.beamOptions(beamArgs, RunMode.STREAMING, false, connections, outageGrace, logic);
    o.setTopic(topic);
    o.setStartFrom("earliest");
    o.setViewVersion(version);
    o.setViews(viewName);
    o.setConsumerGroup(group);
    o.setRunId(runId);
    o.setJobName(RunCommand.jobName(topic, version));
    return RunCommand.validated(o);
  }

  private static String fingerprint(ViewDefinition view, KappaBeamOptions o) {
    String params = KappaBeamPipeline.parameters(o).fingerprint();
    return CodeVersion.fingerprint(view.name(), params, RunCommand.codeVersion(view));
  }

  private static void cancelQuietly(PipelineResult result) {
    try {
      result.cancel();
    } catch (Exception e) {
      // Best effort.
    }
  }
}
