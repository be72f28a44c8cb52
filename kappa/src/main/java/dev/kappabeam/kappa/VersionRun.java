package dev.kappabeam.kappa;

import dev.kappabeam.pipelines.KappaBeamPipeline;
import dev.kappabeam.pipelines.RunCounters;
import dev.kappabeam.pipelines.RunPlan;
import dev.kappabeam.pipelines.kafka.KafkaOffsets;
import dev.kappabeam.pipelines.kafka.PartitionRange;
import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.pipelines.options.RunMode;
import dev.kappabeam.pipelines.options.StoreConfigs;
import dev.kappabeam.pipelines.runner.RunnerSupports;
import dev.kappabeam.serving.ReadProgress;
import dev.kappabeam.serving.RegisteredVersion;
import dev.kappabeam.serving.StoreConfig;
import dev.kappabeam.serving.VersionCounters;
import dev.kappabeam.serving.ViewRegistry;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.CounterNames;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.Views;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptionsValidator;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.joda.time.Duration;

/**
 * One run of a view version's job, hosted by this process: the version's tables created and its
 * registry rows registered as building (a resumed version keeps its rows), the consumer group put
 * at the start point, the job launched with a heartbeat and live counters in the registry, progress
 * reported every 2 s, and the end recorded: a historical or drained run that ends on its own has
 * caught up (and a drained one commits its end offsets); a version retired or dropped meanwhile
 * stops its job; a failure is recorded with its cause. {@code kb run} is this class behind flags,
 * and Lambda's batch and speed runs are runs of it too.
 *
 * <p><b>Resume.</b> A stopped job's window and de-duplication state is gone (DirectRunner keeps
 * none; Flink keeps it only in a savepoint), so resuming from the committed offsets would drop the
 * events already read into still-open windows. A resumed streaming run rewinds its group to the
 * version's start point and replays, rebuilding that state; rows already written are re-applied
 * idempotently.
 */
public final class VersionRun {
  /**
   * What to run.
   *
   * @param options the job's complete options: runner, connections, logic, topic, mode, version,
   *     views, consumer group and the run's bounds
   * @param startFrom where the version starts as the user gave it: {@code earliest}, {@code latest}
   *     or an ISO-8601 instant (an open-ended streaming run starting at an instant has {@code
   *     options.startFrom} earliest, and its group is put at the instant here)
   * @param startOffsets streaming: per-partition offsets {@code partition:offset,...} the group
   *     starts (or, resumed, restarts) at, or null (Lambda's speed run: before the cutover, to
   *     prime the de-duplication)
   * @param resume restart the job of an existing version
   */
  public record Request(
      KappaBeamOptions options, String startFrom, @Nullable String startOffsets, boolean resume) {}

  /** What a run tells its user. */
  public interface Listener {
    /** A status or progress line. */
    void info(String line);

    /** The counters of a run that ended on its own, before they are checked to add up. */
    void finished(Map<String, Long> counters);
  }

  private final Request request;
  private final KappaBeamOptions options;
  private final Listener out;
  private volatile boolean stoppedByRegistry;

  public VersionRun(Request request, Listener out) {
    this.request = request;
    this.options = request.options();
    this.out = out;
  }

  /**
   * Runs the job until it ends; returns normally when it ended on its own or was stopped (Ctrl-C,
   * or its versions retired).
   *
   * @throws KappaException CONFLICT when the version exists and this is not a resume; JOB_FAILED
   *     when the job fails or its counts do not add up (the versions are then recorded as failed)
   */
  public void run() {
    RunnerSupports.check(options);
    String version = options.getViewVersion();
    List<ViewDefinition> selected = KappaBeamPipeline.views(options.getViews());
    StoreConfig store = StoreConfigs.of(options);
    // Checks before the launch fail at once on an unreachable store; the job and its controller
    // ride out outages from the launch on.
    ViewStore viewStore = new ViewStore(store.withOutageGrace(java.time.Duration.ZERO));
    for (ViewDefinition v : selected) {
      if (viewStore.tableExists(v, version) && !request.resume()) {
        throw new KappaException(
            KappaException.Kind.CONFLICT,
            "version "
                + version
                + " of "
                + v.name()
                + " already exists; pick a new version,"
                + " or pass --resume to restart that version's job");
      }
    }
    if (request.resume()) {
      checkSameLogicAndCode(store, selected);
    }
    KappaBeamPipeline.ensureOutputTopics(options);
    positionGroup();
    RunPlan plan = KappaBeamPipeline.plan(options);
    for (ViewDefinition v : selected) {
      viewStore.createTable(options.getLambdaPartials() ? Views.lambdaPartial(v) : v, version);
    }
    ViewRegistry registry = new ViewRegistry(store);
    List<RegisteredVersion> registered = new ArrayList<>();
    for (ViewDefinition v : selected) {
      Optional<RegisteredVersion> existing = registry.get(v.name(), version);
      registered.add(
          existing.isPresent() && existing.get().status() != RegisteredVersion.Status.DROPPED
              ? existing.get()
              : registry.register(building(v, options, request.startFrom())));
    }
    out.info(
        String.format(
            "kb: %s run of %s into version %s (%s) on %s",
            label(),
            options.getTopic(),
            version,
            String.join(", ", plan.views().stream().map(ViewDefinition::name).toList()),
            options.getRunner().getSimpleName()));
    if (!plan.ranges().isEmpty()) {
      out.info(String.format("kb: reading %,d records: %s", plan.totalRecords(), plan.ranges()));
    }
    headWarnings(plan).forEach(out::info);
    host(plan, registry, registered, store);
  }

  private void host(
      RunPlan plan, ViewRegistry registry, List<RegisteredVersion> registered, StoreConfig store) {
    PipelineResult result = AsyncRun.start(plan.pipeline(), options.getViewVersion());
    JobHost host =
        JobHost.started(registry, registered, options.getRunner().getSimpleName(), result)
            .publishingTo(new VersionCounters(store));
    Thread cancelOnExit = host.stopOnExit(result);
    PipelineResult.State state;
    // What the job reports reading is progress only: asked once per tick, never waited for.
    try (ReadProgress progress = new ReadProgress(store.withOutageGrace(java.time.Duration.ZERO))) {
      state = waitWithProgress(result, plan, host, progress);
    } catch (RuntimeException e) {
      JobHost.removeHook(cancelOnExit);
      JobHost.cancelQuietly(result);
      if (stoppedByRegistry) {
        host.ended(RegisteredVersion.STOPPED); // retired: the runner's answer to the cancel
        registry.close();
        throw e;
      }
      // The job or its controller failed (the store beyond the grace, a crashed pipeline): the
      // run is failed, with its cause; only a requested stop is recorded as stopped.
      throw failed(host, registry, JobHost.failureCause(e), e);
    }
    JobHost.removeHook(cancelOnExit);
    if (state == PipelineResult.State.CANCELLED && (stoppedByRegistry || host.isStopRequested())) {
      host.ended(RegisteredVersion.STOPPED);
      registry.close();
      return;
    }
    if (state != PipelineResult.State.DONE) {
      throw failed(host, registry, "the pipeline ended in state " + state, null);
    }
    Map<String, Long> counters = RunCounters.of(result, false);
    host.publish(counters);
    host.ended(RegisteredVersion.DONE);
    // A run that ended on its own (historical, drained) has caught up with its end offsets.
    Instant doneAt = Instant.now();
    for (RegisteredVersion r : registered) {
      registry.caughtUp(r.view(), r.version(), doneAt);
    }
    registry.close();
    out.finished(counters);
    long read = counters.get(CounterNames.READ);
    long accounted =
        counters.get(CounterNames.ACCEPTED)
            + counters.get(CounterNames.DEAD_LETTERED)
            + counters.get(CounterNames.DUPLICATES_REMOVED)
            + counters.get(CounterNames.LATE);
    if (read != accounted) {
      throw new KappaException(
          KappaException.Kind.JOB_FAILED,
          "counts do not add up: read "
              + read
              + " != accepted + dead_lettered + duplicates_removed + late = "
              + accounted);
    }
    if (options.getMode() == RunMode.STREAMING
        && options.getDrainWhenCaughtUp()
        && !plan.ranges().isEmpty()) {
      commitEndOffsets(plan);
    }
  }

  /**
   * Sets what a version's job reads and writes on the caller's options ({@link JobOptions}): {@code
   * topic} from earliest into {@code version} of {@code views} (comma-separated), with {@code
   * group} (null: the default group of topic and version), a job name and a run id; then checks
   * Beam's required options.
   */
  public static KappaBeamOptions targeting(
      KappaBeamOptions o, String topic, String version, String views, @Nullable String group) {
    o.setTopic(topic);
    o.setStartFrom("earliest");
    o.setViewVersion(version);
    o.setViews(views);
    o.setConsumerGroup(group);
    o.setJobName(jobName(topic, version));
    if (o.getRunId() == null || o.getRunId().isEmpty()) {
      o.setRunId(UUID.randomUUID().toString());
    }
    PipelineOptionsValidator.validate(KappaBeamOptions.class, o);
    return o;
  }

  /**
   * A historical replay from the start of a log whose head Kafka's retention deleted, without an
   * archive: it starts at Kafka's first offset, not at 0, and says so.
   */
  List<String> headWarnings(RunPlan plan) {
    boolean archived = options.getArchive() != null && !options.getArchive().isBlank();
    if (archived
        || options.getMode() != RunMode.HISTORICAL
        || !"earliest".equals(options.getStartFrom())) {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    for (dev.kappabeam.pipelines.kafka.PartitionRange r : plan.ranges()) {
      if (r.start() > 0) {
        out.add(
            String.format(
                "kb: warning: partition %d of %s starts at offset %d, not 0: Kafka's retention"
                    + " deleted the records before it, and this replay does not see them (replay"
                    + " them from an archive with --archive URI, see kb archive)",
                r.partition(), r.topic(), r.start()));
      }
    }
    return out;
  }

  /**
   * A resumed version runs only with the logic and code that started it: each selected view's
   * registered fingerprint must be this run's.
   */
  private void checkSameLogicAndCode(StoreConfig store, List<ViewDefinition> selected) {
    try (ViewRegistry registry = new ViewRegistry(store.withOutageGrace(java.time.Duration.ZERO))) {
      for (ViewDefinition v : selected) {
        Optional<RegisteredVersion> existing = registry.get(v.name(), options.getViewVersion());
        if (existing.isEmpty() || existing.get().status() == RegisteredVersion.Status.DROPPED) {
          continue;
        }
        String fingerprint = VersionCode.fingerprint(v, KappaBeamPipeline.parameters(options));
        if (!fingerprint.equals(existing.get().fingerprint())) {
          throw new KappaException(
              KappaException.Kind.CONFLICT,
              "version "
                  + options.getViewVersion()
                  + " of "
                  + v.name()
                  + " was started with other logic or code ("
                  + existing.get().parameters()
                  + ", fingerprint "
                  + existing.get().fingerprint()
                  + "; this run: "
                  + KappaBeamPipeline.parameters(options).fingerprint()
                  + ", fingerprint "
                  + fingerprint
                  + "): resume it with the flags and build that started it, or pick a new"
                  + " version");
        }
      }
    }
  }

  /** The runner's name for the job building {@code version} from {@code topic}. */
  public static String jobName(String topic, String version) {
    return "kb-" + topic.replaceAll("[^A-Za-z0-9-]", "-") + "-" + version;
  }

  /** A new registry row, building, for {@code view} built with {@code o} from {@code start}. */
  static RegisteredVersion building(ViewDefinition view, KappaBeamOptions o, String start) {
    String params = KappaBeamPipeline.parameters(o).fingerprint();
    String code = VersionCode.of(view);
    return RegisteredVersion.building(
        view.name(),
        o.getViewVersion(),
        o.getTopic(),
        KappaBeamPipeline.consumerGroup(o),
        start,
        o.getRunner().getSimpleName(),
        params,
        code,
        VersionCode.fingerprint(view, KappaBeamPipeline.parameters(o)),
        RecordedLogic.of(o));
  }

  private String label() {
    if (options.getMode() == RunMode.HISTORICAL) {
      return "historical";
    }
    return options.getDrainWhenCaughtUp() ? "streaming (drain when caught up)" : "streaming";
  }

  /**
   * Where a streaming job's group starts: at the given offsets (a new group, or a resumed one); a
   * resumed version's group rewound to its start point; a new group at the first records at or
   * after an instant (KafkaIO's unbounded read starts a new group at earliest or latest only; a
   * restarted job keeps its position).
   */
  void positionGroup() {
    if (options.getMode() != RunMode.STREAMING) {
      return;
    }
    String group = KappaBeamPipeline.consumerGroup(options);
    try (KafkaOffsets kafka = new KafkaOffsets(KappaBeamPipeline.kafkaClients(options))) {
      List<TopicPartition> partitions = kafka.partitions(options.getTopic());
      if (request.startOffsets() != null) {
        if (request.resume() || kafka.committed(group, partitions).isEmpty()) {
          Map<TopicPartition, Long> end = kafka.offsets(partitions, OffsetSpec.latest());
          kafka.commit(group, KafkaOffsets.stopOffsets(partitions, request.startOffsets(), end));
          out.info("kb: consumer group " + group + " starts at offsets " + request.startOffsets());
        }
      } else if (request.resume()) {
        kafka.commit(
            group, kafka.offsets(partitions, KafkaOffsets.parseStartPoint(request.startFrom())));
        out.info(
            "kb: resuming version "
                + options.getViewVersion()
                + ": rewound consumer group "
                + group
                + " to "
                + request.startFrom());
      } else if (!options.getDrainWhenCaughtUp() && isInstant(request.startFrom())) {
        if (kafka.committed(group, partitions).isEmpty()) {
          kafka.commit(
              group, kafka.offsets(partitions, KafkaOffsets.parseStartPoint(request.startFrom())));
          out.info("kb: consumer group " + group + " starts at " + request.startFrom());
        }
      }
    }
  }

  private static boolean isInstant(String startPoint) {
    return !"earliest".equals(startPoint) && !"latest".equals(startPoint);
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
        out.info("kb: the versions of job " + host.jobId() + " were retired; stopping the job");
        stoppedByRegistry = true;
        JobHost.cancelQuietly(result);
        continue;
      }
      // Beam metrics reach this process only when a Flink or portable job ends; what the job
      // reports reading itself is live on every runner.
      Map<String, Long> live =
          RunCounters.withRead(RunCounters.of(result, true), reported(progress, plan));
      host.publish(live);
      long read = live.get(CounterNames.READ);
      long now = System.nanoTime();
      double rate = (read - lastRead) / Math.max(1e-3, (now - lastTime) / 1e9);
      lastRead = read;
      lastTime = now;
      if (total > 0) {
        out.info(
            String.format(
                "kb: read %,d / %,d records (%.1f%%), %,.0f rec/s, %ds",
                read, total, 100.0 * read / total, rate, (now - started) / 1_000_000_000L));
      } else {
        out.info(
            String.format(
                "kb: read %,d records, %,.0f rec/s, %ds (Ctrl-C stops)",
                read, rate, (now - started) / 1_000_000_000L));
      }
    }
  }

  /** Records this run reported reading ({@code ReportReadProgress}), summed over partitions. */
  private long reported(ReadProgress progress, RunPlan plan) {
    try {
      return progress
          .read(plan.consumerGroup(), options.getTopic(), options.getRunId())
          .values()
          .stream()
          .mapToLong(ReadProgress.Position::records)
          .sum();
    } catch (RuntimeException e) {
      return 0; // the store is briefly unreachable: progress only
    }
  }

  private void commitEndOffsets(RunPlan plan) {
    Map<TopicPartition, Long> offsets = new HashMap<>();
    for (PartitionRange r : plan.ranges()) {
      offsets.put(new TopicPartition(r.topic(), r.partition()), r.end());
    }
    try (KafkaOffsets kafka = new KafkaOffsets(KappaBeamPipeline.kafkaClients(options))) {
      kafka.commit(plan.consumerGroup(), offsets);
    }
    out.info("kb: committed end offsets for consumer group " + plan.consumerGroup());
  }

  /**
   * Records the run as failed with {@code cause} (waiting up to the grace for an unreachable
   * registry; saying so if it stays unreachable) and returns the error to throw.
   */
  private KappaException failed(
      JobHost host, ViewRegistry registry, String cause, @Nullable Throwable e) {
    String version = options.getViewVersion();
    if (!host.isStopRequested()) {
      out.info("kb: the run of version " + version + " failed: " + cause);
    }
    host.failed(cause);
    registry.close();
    String resume =
        "; re-run it with the same flags plus --resume (kb run --mode "
            + options.getMode().name().toLowerCase(Locale.ROOT)
            + " --topic "
            + options.getTopic()
            + " --version "
            + version
            + " ... --resume)";
    return e == null
        ? new KappaException(KappaException.Kind.JOB_FAILED, "the run failed: " + cause + resume)
        : new KappaException(
            KappaException.Kind.JOB_FAILED, "the run failed: " + cause + resume, e);
  }
}
