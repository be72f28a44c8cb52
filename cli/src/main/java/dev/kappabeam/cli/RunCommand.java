package dev.kappabeam.cli;

import dev.kappabeam.pipelines.KappaBeamPipeline;
import dev.kappabeam.pipelines.RunCounters;
import dev.kappabeam.pipelines.RunPlan;
import dev.kappabeam.pipelines.kafka.KafkaOffsets;
import dev.kappabeam.pipelines.kafka.PartitionRange;
import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.pipelines.options.RunMode;
import dev.kappabeam.pipelines.options.StoreConfigs;
import dev.kappabeam.pipelines.runner.RunnerSupports;
import dev.kappabeam.serving.CodeVersion;
import dev.kappabeam.serving.ReadProgress;
import dev.kappabeam.serving.RegisteredVersion;
import dev.kappabeam.serving.StoreConfig;
import dev.kappabeam.serving.VersionCounters;
import dev.kappabeam.serving.ViewRegistry;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.CounterNames;
import dev.kappabeam.transforms.ReferenceViews;
import dev.kappabeam.transforms.views.ViewCatalog;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.Views;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.options.PipelineOptionsValidator;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.joda.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Unmatched;

/**
 * {@code kb run}: builds the reference views of a topic into a view version, in streaming or
 * historical mode, on any runner (standard Beam flags pass through, e.g. {@code
 * --runner=FlinkRunner}). Prints progress while it runs and the counters when it ends, and checks
 * that they add up.
 */
@Command(
    name = "run",
    description = {
      "Run the reference pipeline over a topic into a view version.",
      "Unknown --flags are passed to Beam (e.g. --runner=DirectRunner, --targetParallelism=2)."
    })
final class RunCommand implements Runnable {
  @Mixin HelpOption help;

  @Mixin Connections connections;

  @Mixin OutageGrace outageGrace;

  @Option(
      names = "--mode",
      required = true,
      description = "streaming | historical",
      converter = ModeConverter.class)
  RunMode mode;

  @Option(names = "--topic", required = true, description = "The event-log topic.")
  String topic;

  @Option(names = "--version", required = true, description = "View version to build, e.g. v1.")
  String version;

  @Option(
      names = "--views",
      description = "Comma-separated views (default: all).",
      defaultValue = "")
  String views;

  @Option(
      names = "--drain-when-caught-up",
      description =
          "Streaming: read up to the end offsets at launch, then fire every window, commit the"
              + " offsets and stop.")
  boolean drainWhenCaughtUp;

  @Option(
      names = "--start-from",
      defaultValue = "earliest",
      description = "earliest | latest | ISO-8601 instant (default ${DEFAULT-VALUE}).")
  String startFrom = "earliest";

  @Option(
      names = "--stop-at",
      description = "Historical: ISO-8601 instant to stop at instead of the end offsets at launch.")
  String stopAt;

  @Option(
      names = "--resume",
      description =
          "Restart the job of an existing version: its consumer group is rewound to --start-from and"
              + " the log replayed, rebuilding the window state a stopped job loses; the"
              + " idempotent sink makes the replay land exactly.")
  boolean resume;

  @Mixin LogicFlags logic;

  @Option(
      names = "--consumer-group",
      description = "Consumer group (default kappa-beam.<topic>.<version>).")
  String consumerGroup;

  // Set by the kb commands that start a run in this process (kb batch, kb speed; see inner), not
  // flags of kb run.

  /** Historical: per-partition stop offsets partition:offset,... (kb batch's cutoff). */
  String stopOffsets;

  /**
   * Streaming: the consumer group starts (or, with resume, restarts) at these per-partition offsets
   * partition:offset,... (kb speed: before the Lambda cutoff, to prime the de-duplication).
   */
  String startOffsets;

  /** Streaming: records before these per-partition offsets only prime the de-duplication. */
  String countFromOffsets;

  /**
   * With countFromOffsets: the newest event time before them; counted events up to it wait for the
   * watermark so that their copy before the cutoff is seen first.
   */
  String primedUntil;

  /** Write Lambda partial rows (kb batch, kb speed). */
  boolean lambdaPartials;

  /** Identifies this run's rows in kb_read_progress (kb speed reads them back). */
  String runId = java.util.UUID.randomUUID().toString();

  @Unmatched List<String> beamArgs = new ArrayList<>();

  /**
   * A kb run that another command starts in this process (kb batch, kb speed): the fields a command
   * line fills, set directly; the caller sets the rest (offsets, partials, resume) and calls {@link
   * #run}.
   */
  static RunCommand inner(
      Connections connections,
      OutageGrace outageGrace,
      LogicFlags logic,
      List<String> beamArgs,
      RunMode mode,
      String topic,
      String version,
      String views) {
    RunCommand run = new RunCommand();
    run.connections = connections;
    run.outageGrace = outageGrace;
    run.logic = logic;
    run.beamArgs = new ArrayList<>(beamArgs);
    run.mode = mode;
    run.topic = topic;
    run.version = version;
    run.views = views;
    return run;
  }

  @Override
  public void run() {
    if (!version.matches("[a-z0-9_]+")) {
      throw new IllegalArgumentException(
          "--version must be lower-case letters, digits or _, like v1; got '" + version + "'");
    }
    for (String a : beamArgs) {
      if (!a.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument '" + a + "'; see kb run --help");
      }
    }
    KappaBeamOptions options = options();
    RunnerSupports.check(options);
    List<ViewDefinition> selected = KappaBeamPipeline.views(views);
    StoreConfig store = StoreConfigs.of(options);
    // Checks before the launch fail at once on an unreachable store (exit 3); the job and its
    // controller ride out outages from the launch on.
    ViewStore viewStore = new ViewStore(store.withOutageGrace(java.time.Duration.ZERO));
    for (ViewDefinition v : selected) {
      if (viewStore.tableExists(v, version) && !resume) {
        throw new CliException(
            ExitCodes.ENVIRONMENT,
            "version "
                + version
                + " of "
                + v.name()
                + " already exists; pick a new version,"
                + " or pass --resume to restart that version's job");
      }
    }
    ensureOutputTopics(options);
    if (startOffsets != null && mode == RunMode.STREAMING) {
      startGroupAtOffsets(options);
    } else if (resume && mode == RunMode.STREAMING) {
      rewindGroup(options);
    } else if (mode == RunMode.STREAMING && !drainWhenCaughtUp && isTimestamp(startFrom)) {
      startGroupAtTimestamp(options);
    }
    RunPlan plan = KappaBeamPipeline.plan(options);
    for (ViewDefinition v : selected) {
      viewStore.createTable(lambdaPartials ? Views.lambdaPartial(v) : v, version);
    }
    ViewRegistry registry = new ViewRegistry(store);
    List<RegisteredVersion> registered = register(registry, options, plan, selected);
    String label =
        mode == RunMode.HISTORICAL
            ? "historical"
            : drainWhenCaughtUp ? "streaming (drain when caught up)" : "streaming";
    System.err.printf(
        "kb: %s run of %s into version %s (%s) on %s%n",
        label,
        topic,
        version,
        plan.views().stream().map(ViewDefinition::name).reduce((a, b) -> a + ", " + b).orElse(""),
        options.getRunner().getSimpleName());
    if (!plan.ranges().isEmpty()) {
      System.err.printf("kb: reading %,d records: %s%n", plan.totalRecords(), plan.ranges());
    }
    PipelineResult result = AsyncRun.start(plan.pipeline(), version);
    JobHost host =
        JobHost.started(registry, registered, options.getRunner().getSimpleName(), result)
            .publishingTo(new VersionCounters(store));
    Thread cancelOnExit =
        new Thread(
            () -> {
              host.stopRequested();
              cancelQuietly(result);
              host.ended(RegisteredVersion.STOPPED);
            });
    Runtime.getRuntime().addShutdownHook(cancelOnExit);
    PipelineResult.State state;
    // What the job reports reading is progress only: asked once per tick, never waited for.
    try (ReadProgress progress = new ReadProgress(store.withOutageGrace(java.time.Duration.ZERO))) {
      state = waitWithProgress(result, plan, host, progress);
    } catch (RuntimeException e) {
      removeQuietly(cancelOnExit);
      cancelQuietly(result);
      if (stoppedByRegistry) {
        host.ended(RegisteredVersion.STOPPED); // retired: the runner's answer to the cancel
        registry.close();
        throw e;
      }
      // The job or its controller failed (the store beyond the grace, a crashed pipeline): the
      // run is failed, with its cause; only a requested stop is recorded as stopped.
      throw failed(host, registry, OutageGrace.cause(e), e);
    }
    removeQuietly(cancelOnExit);
    if (state == PipelineResult.State.CANCELLED && (stoppedByRegistry || host.isStopRequested())) {
      host.ended(RegisteredVersion.STOPPED);
      registry.close();
      return;
    }
    if (state != PipelineResult.State.DONE) {
      throw failed(host, registry, "the pipeline ended in state " + state, null);
    }
    host.publish(counters(result, false));
    host.ended(RegisteredVersion.DONE);
    // A run that ended on its own (historical, drained) has caught up with its end offsets.
    java.time.Instant doneAt = java.time.Instant.now();
    for (RegisteredVersion r : registered) {
      registry.caughtUp(r.view(), r.version(), doneAt);
    }
    registry.close();
    Map<String, Long> counters = counters(result, false);
    System.out.println(summary(counters));
    long read = counters.get(CounterNames.READ);
    long accounted =
        counters.get(CounterNames.ACCEPTED)
            + counters.get(CounterNames.DEAD_LETTERED)
            + counters.get(CounterNames.DUPLICATES_REMOVED)
            + counters.get(CounterNames.LATE);
    if (read != accounted) {
      throw new CliException(
          ExitCodes.RUN_FAILED,
          "counts do not add up: read "
              + read
              + " != accepted + dead_lettered + duplicates_removed + late = "
              + accounted);
    }
    if (mode == RunMode.STREAMING && drainWhenCaughtUp && !plan.ranges().isEmpty()) {
      commitEndOffsets(plan);
    }
  }

  /**
   * The Beam flags given, plus DirectRunner by default and {@code --blockOnRun=false} on it (kb
   * waits itself, printing progress). The runner's own defaults (DirectRunner: one worker thread
   * for streaming runs, see {@code DirectRunnerSupport}) are added where the options are built
   * ({@code RunnerSupports.withDefaults}), as for the pipeline's {@code main} and the tests.
   */
  static List<String> runnerArgs(List<String> beamArgs) {
    List<String> args = new ArrayList<>(beamArgs);
    boolean runnerGiven = args.stream().anyMatch(a -> a.startsWith("--runner"));
    if (!runnerGiven) {
      args.add("--runner=DirectRunner");
    }
    if (RunnerSupports.runnerName(args).equals("DirectRunner")) {
      args.addAll(RunnerSupports.missing(args, List.of("--blockOnRun=false")));
    }
    return args;
  }

  /**
   * Records the run as failed with {@code cause} (waiting up to the grace for an unreachable
   * registry; saying so on stderr if it stays unreachable) and returns the exit-4 error to throw.
   */
  private CliException failed(JobHost host, ViewRegistry registry, String cause, Throwable e) {
    if (!host.isStopRequested()) {
      System.err.println("kb: the run of version " + version + " failed: " + cause);
    }
    host.failed(cause);
    registry.close();
    String resume =
        "; re-run it with the same flags plus --resume (kb run --mode "
            + mode.name().toLowerCase(java.util.Locale.ROOT)
            + " --topic "
            + topic
            + " --version "
            + version
            + " ... --resume)";
    return new CliException(ExitCodes.RUN_FAILED, "the run failed: " + cause + resume, e);
  }

  private static void removeQuietly(Thread hook) {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // The JVM is shutting down: the hook runs, a stop was asked for.
    }
  }

  /**
   * The job's options: the Beam flags given (runner and its tuning, plus the runner's defaults for
   * this run's mode, which is all a runner default depends on) parsed as Beam parses them, then
   * kappa-beam's own options set with their typed setters and validated.
   */
  private KappaBeamOptions options() {
    if (stopAt != null && mode != RunMode.HISTORICAL) {
      throw new IllegalArgumentException(
          "--stop-at is for historical runs; streaming runs use --drain-when-caught-up");
    }
    if (drainWhenCaughtUp && mode != RunMode.STREAMING) {
      throw new IllegalArgumentException(
          "--drain-when-caught-up is for streaming runs; a historical run always ends on its own");
    }
    KappaBeamOptions o =
        beamOptions(beamArgs, mode, drainWhenCaughtUp, connections, outageGrace, logic);
    o.setTopic(topic);
    o.setStartFrom(
        mode == RunMode.STREAMING && !drainWhenCaughtUp && isTimestamp(startFrom)
            ? "earliest"
            : startFrom);
    o.setStopAt(stopAt);
    o.setViewVersion(version);
    o.setViews(views);
    o.setConsumerGroup(consumerGroup);
    o.setStopOffsets(stopOffsets);
    o.setCountFromOffsets(countFromOffsets);
    o.setPrimedUntil(primedUntil);
    o.setLambdaPartials(lambdaPartials);
    o.setRunId(runId);
    o.setJobName(jobName(topic, version));
    return validated(o);
  }

  /**
   * The options every kb job starts from: {@code beamArgs} (with DirectRunner by default) and the
   * runner's defaults for a run of this mode, parsed by Beam; then the connections, the outage
   * grace and the logic set on them.
   */
  static KappaBeamOptions beamOptions(
      List<String> beamArgs,
      RunMode mode,
      boolean drainWhenCaughtUp,
      Connections connections,
      OutageGrace outageGrace,
      LogicFlags logic) {
    List<String> args = runnerArgs(beamArgs);
    // The run's shape, which the runner's defaults depend on (RunnerSupport.defaultFlags).
    args.add("--mode=" + mode.name());
    args.add("--drainWhenCaughtUp=" + drainWhenCaughtUp);
    KappaBeamOptions o =
        PipelineOptionsFactory.fromArgs(
                RunnerSupports.withDefaults(args, java.util.Optional.of(connections.dataDir()))
                    .toArray(new String[0]))
            .as(KappaBeamOptions.class);
    connections.applyTo(o);
    outageGrace.applyTo(o);
    logic.applyTo(o);
    return o;
  }

  /** {@code o} once Beam's required-option checks passed. */
  static KappaBeamOptions validated(KappaBeamOptions o) {
    PipelineOptionsValidator.validate(KappaBeamOptions.class, o);
    return o;
  }

  static String jobName(String topic, String version) {
    return "kb-" + topic.replaceAll("[^A-Za-z0-9-]", "-") + "-" + version;
  }

  static void ensureOutputTopics(KappaBeamOptions o) {
    try (KafkaOffsets kafka = new KafkaOffsets(KappaBeamPipeline.kafkaClients(o))) {
      int partitions = kafka.partitions(o.getTopic()).size();
      Set<String> existing = kafka.topics();
      List<NewTopic> missing = new ArrayList<>();
      for (String t :
          List.of(KappaBeamPipeline.deadLetterTopic(o), KappaBeamPipeline.lateTopic(o))) {
        if (!existing.contains(t)) {
          missing.add(new NewTopic(t, partitions, (short) 1));
        }
      }
      if (!missing.isEmpty()) {
        kafka.admin().createTopics(missing).all().get(30, TimeUnit.SECONDS);
      }
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      if (!(e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException)) {
        throw new CliException(
            ExitCodes.ENVIRONMENT,
            "cannot create the dead-letter/late topics: " + e.getMessage(),
            e);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException(ExitCodes.ENVIRONMENT, "interrupted", e);
    }
  }

  /**
   * A stopped job's window and de-duplication state is gone (DirectRunner keeps none; Flink keeps
   * it only in a savepoint), so resuming from the committed offsets would drop the events already
   * read into still-open windows. Rewinding the group to the version's start point and replaying
   * rebuilds that state; rows already written are re-applied idempotently.
   */
  /** A new group (or, with --resume, a restarted one) starts at the given per-partition offsets. */
  private void startGroupAtOffsets(KappaBeamOptions o) {
    String group = KappaBeamPipeline.consumerGroup(o);
    try (KafkaOffsets kafka = new KafkaOffsets(KappaBeamPipeline.kafkaClients(o))) {
      List<TopicPartition> partitions = kafka.partitions(o.getTopic());
      if (resume || kafka.committed(group, partitions).isEmpty()) {
        Map<TopicPartition, Long> end = kafka.offsets(partitions, OffsetSpec.latest());
        kafka.commit(group, KafkaOffsets.stopOffsets(partitions, startOffsets, end));
        System.err.println("kb: consumer group " + group + " starts at offsets " + startOffsets);
      }
    }
  }

  private void rewindGroup(KappaBeamOptions o) {
    String group = KappaBeamPipeline.consumerGroup(o);
    try (KafkaOffsets kafka = new KafkaOffsets(KappaBeamPipeline.kafkaClients(o))) {
      List<TopicPartition> partitions = kafka.partitions(o.getTopic());
      kafka.commit(
          group, kafka.offsets(partitions, KafkaOffsets.parseStartPoint(o.getStartFrom())));
    }
    System.err.println(
        "kb: resuming version "
            + version
            + ": rewound consumer group "
            + group
            + " to "
            + startFrom);
  }

  private static boolean isTimestamp(String startPoint) {
    return !"earliest".equals(startPoint) && !"latest".equals(startPoint);
  }

  /**
   * KafkaIO's unbounded read starts a new group at earliest or latest only; for a timestamp, the
   * group's offsets are set to the first records at or after it before the job starts (only when
   * the group has none: a restarted job keeps its position).
   */
  private void startGroupAtTimestamp(KappaBeamOptions o) {
    String group = KappaBeamPipeline.consumerGroup(o);
    try (KafkaOffsets kafka = new KafkaOffsets(KappaBeamPipeline.kafkaClients(o))) {
      List<TopicPartition> partitions = kafka.partitions(o.getTopic());
      if (kafka.committed(group, partitions).isEmpty()) {
        kafka.commit(group, kafka.offsets(partitions, KafkaOffsets.parseStartPoint(startFrom)));
        System.err.println("kb: consumer group " + group + " starts at " + startFrom);
      }
    }
  }

  private boolean stoppedByRegistry;

  /**
   * The code that builds {@code view}, as the registry records it: kappa-beam's logic ({@code
   * dev.kappabeam.transforms}), and for a plug-in's view also the package of the plug-in's classes,
   * so a new plug-in build is a new fingerprint.
   */
  static String codeVersion(ViewDefinition view) {
    String code = CodeVersion.of(ReferenceViews.class);
    Class<?> own = ViewCatalog.implementation(ViewCatalog.current().require(view.name()));
    return own == null ? code : code + "/" + CodeVersion.of(own);
  }

  /**
   * Registers the versions this run builds as building (a resumed version keeps its row), with
   * their logic fingerprint; kb cutover makes one live.
   */
  private List<RegisteredVersion> register(
      ViewRegistry registry, KappaBeamOptions o, RunPlan plan, List<ViewDefinition> selected) {
    String params = plan.parameters().fingerprint();
    List<RegisteredVersion> out = new ArrayList<>();
    for (ViewDefinition v : selected) {
      String code = codeVersion(v);
      java.util.Optional<RegisteredVersion> existing = registry.get(v.name(), version);
      if (existing.isPresent() && existing.get().status() != RegisteredVersion.Status.DROPPED) {
        out.add(existing.get());
        continue;
      }
      out.add(
          registry.register(
              new RegisteredVersion(
                  v.name(),
                  version,
                  RegisteredVersion.Status.BUILDING,
                  topic,
                  plan.consumerGroup(),
                  startFrom,
                  o.getRunner().getSimpleName(),
                  null,
                  null,
                  null,
                  null,
                  params,
                  code,
                  CodeVersion.fingerprint(v.name(), params, code),
                  LogicFlags.recorded(o),
                  null,
                  null,
                  null,
                  null,
                  null,
                  null,
                  null)));
    }
    return out;
  }

  private PipelineResult.State waitWithProgress(
      PipelineResult result, RunPlan plan, JobHost host, ReadProgress progress) {
    long total = plan.totalRecords();
    long started = System.nanoTime();
    long lastRead = 0;
    long lastTime = started;
    while (true) {
      PipelineResult.State s = result.waitUntilFinish(Duration.standardSeconds(2));
      if (s != null && s.isTerminal()) {
        return s;
      }
      if (!host.beat()) {
        System.err.println(
            "kb: the versions of job " + host.jobId() + " were retired; stopping the job");
        stoppedByRegistry = true;
        cancelQuietly(result);
        continue;
      }
      // Beam metrics reach this process only when a Flink or portable job ends; what the job
      // reports reading itself is live on every runner.
      Map<String, Long> live = withRead(counters(result, true), reported(progress, plan));
      host.publish(live);
      long read = live.get(CounterNames.READ);
      long now = System.nanoTime();
      double rate = (read - lastRead) / Math.max(1e-3, (now - lastTime) / 1e9);
      lastRead = read;
      lastTime = now;
      if (total > 0) {
        System.err.printf(
            "kb: read %,d / %,d records (%.1f%%), %,.0f rec/s, %ds%n",
            read, total, 100.0 * read / total, rate, (now - started) / 1_000_000_000L);
      } else {
        System.err.printf(
            "kb: read %,d records, %,.0f rec/s, %ds (Ctrl-C stops)%n",
            read, rate, (now - started) / 1_000_000_000L);
      }
    }
  }

  private void commitEndOffsets(RunPlan plan) {
    Map<TopicPartition, Long> offsets = new HashMap<>();
    for (PartitionRange r : plan.ranges()) {
      offsets.put(new TopicPartition(r.topic(), r.partition()), r.end());
    }
    try (KafkaOffsets kafka = new KafkaOffsets(connections.kafka())) {
      kafka.commit(plan.consumerGroup(), offsets);
    }
    System.err.println("kb: committed end offsets for consumer group " + plan.consumerGroup());
  }

  /** Records this run reported reading ({@code ReportReadProgress}), summed over partitions. */
  private long reported(ReadProgress progress, RunPlan plan) {
    try {
      return progress.read(plan.consumerGroup(), topic, runId).values().stream()
          .mapToLong(ReadProgress.Position::records)
          .sum();
    } catch (RuntimeException e) {
      return 0; // the store is briefly unreachable: progress only
    }
  }

  /** {@code counters} with {@code read} raised to {@code reported} where the metrics lag behind. */
  static Map<String, Long> withRead(Map<String, Long> counters, long reported) {
    Map<String, Long> out = new java.util.LinkedHashMap<>(counters);
    out.merge(CounterNames.READ, reported, Math::max);
    return out;
  }

  static Map<String, Long> counters(PipelineResult result, boolean attempted) {
    return RunCounters.of(result, attempted);
  }

  static String summary(Map<String, Long> c) {
    StringBuilder b = new StringBuilder("counters:");
    c.forEach((k, v) -> b.append(' ').append(k).append('=').append(v));
    return b.toString();
  }

  private static void cancelQuietly(PipelineResult result) {
    try {
      result.cancel();
    } catch (Exception e) {
      // Best effort on exit.
    }
  }

  /** Accepts streaming/historical in any case. */
  static final class ModeConverter implements picocli.CommandLine.ITypeConverter<RunMode> {
    @Override
    public RunMode convert(String value) {
      try {
        return RunMode.valueOf(value.toUpperCase(java.util.Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new picocli.CommandLine.TypeConversionException(
            "expected streaming or historical, got '" + value + "'");
      }
    }
  }
}
