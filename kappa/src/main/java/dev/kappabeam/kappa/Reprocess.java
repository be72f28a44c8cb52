package dev.kappabeam.kappa;

import dev.kappabeam.pipelines.KappaBeamPipeline;
import dev.kappabeam.pipelines.RunCounters;
import dev.kappabeam.pipelines.RunPlan;
import dev.kappabeam.pipelines.kafka.KafkaOffsets;
import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.pipelines.options.RunMode;
import dev.kappabeam.pipelines.options.StoreConfigs;
import dev.kappabeam.pipelines.runner.RunnerSupports;
import dev.kappabeam.serving.RegisteredVersion;
import dev.kappabeam.serving.RegisteredVersion.Status;
import dev.kappabeam.serving.StoreConfig;
import dev.kappabeam.serving.VersionCounters;
import dev.kappabeam.serving.ViewRegistry;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.views.ViewDefinition;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.beam.sdk.PipelineResult;
import org.apache.kafka.common.TopicPartition;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The Kappa reprocess of one view: registers a new version as building, replays the log into its
 * own table with its own consumer group as a streaming job (in this process for DirectRunner and
 * Flink {@code [local]}) while the live version keeps serving, watches the catch-up, and when the
 * new version has caught up switches the view's alias to it in one transaction, retiring the old
 * one (whose job, if a kb process hosts it, stops itself). {@code kb reprocess} is this class
 * behind flags.
 *
 * <p><b>Caught up</b> is the rule {@link dev.kappabeam.serving.CatchUp} shares with Lambda's speed
 * run, held for {@link Request#caughtUpFor}: the job has read the backlog that existed at launch
 * (what it reports reading per partition, or its group's committed offsets), keeps up with the log
 * within {@link Request#caughtUpLag} records, and, when the log is quiet, its table stopped
 * changing (windows fire at the watermark, so the table then holds everything a streaming job with
 * these parameters emits for the log so far). It holds on every runner: the job reports its reads
 * itself, so no Beam metric is needed.
 *
 * <p><b>Restart.</b> The state is in the registry only. A reprocess of a version that is still
 * building and whose job is dead (heartbeat stale, or its local pid gone) resumes it with the
 * recorded topic, start point and logic: the group is rewound to the start point and the log
 * replayed (the job's window state died with it), and the idempotent sink makes the replay land
 * exactly. A version that is live already and whose job is dead or failed (the controller died
 * after the cutover's switch) is resumed the same way, without a second switch: its replay only
 * rewrites rows with more progress, so readers of the alias see no change.
 *
 * <pre>{@code
 * new Reprocess(store, request, jobOptions, listener).run(); // returns once stopped
 * }</pre>
 */
public final class Reprocess {
  /** How often the job is observed (heartbeat, catch-up, progress line). */
  private static final long TICK_MILLIS = 2000;

  /**
   * What to reprocess.
   *
   * @param topic the event-log topic; null takes the live version's
   * @param from {@code earliest} or an ISO-8601 instant to replay from
   * @param caughtUpLag caught up when the lag is at most this many records...
   * @param caughtUpFor ... continuously for this long, with the table unchanged
   * @param staleAfter a job whose heartbeat is older is dead
   * @param cutover switch the alias when caught up (false: only build; switch with a cutover)
   * @param exitAfterCutover stop the new version's job once it is live (false: keep running it)
   */
  public record Request(
      ViewDefinition view,
      String version,
      @Nullable String topic,
      String from,
      long caughtUpLag,
      Duration caughtUpFor,
      Duration staleAfter,
      boolean cutover,
      boolean exitAfterCutover) {}

  /** What the reprocess tells its user. */
  public interface Listener {
    /** A status or progress line. */
    void info(String line);

    /** The version caught up and no cutover was asked for. */
    void caughtUp(ViewDefinition view, String version);

    /**
     * The alias reads {@code version} now ({@code sw.at()} null: it did before this run); {@code
     * previous} is the retired version's row.
     */
    void cutOver(
        ViewDefinition view,
        String version,
        ViewRegistry.Switch sw,
        @Nullable RegisteredVersion previous);
  }

  private final StoreConfig storeConfig;
  private final Request request;
  private final JobOptions jobs;
  private final Listener out;

  /**
   * @param storeConfig the serving store, with the outage grace the controller rides out
   */
  public Reprocess(StoreConfig storeConfig, Request request, JobOptions jobs, Listener out) {
    this.storeConfig = storeConfig;
    this.request = request;
    this.jobs = jobs;
    this.out = out;
  }

  /** The version's job options: the caller's, then what this reprocess reads and writes. */
  private KappaBeamOptions options(String topic, String group) {
    return VersionRun.targeting(
        jobs.build(RunMode.STREAMING, false),
        topic,
        request.version(),
        request.view().name(),
        group);
  }

  /** A version to build: the registry row and where the replay starts. */
  private record Plan(RegisteredVersion row, KappaBeamOptions options, boolean resume) {}

  /**
   * Builds the version, cuts over when asked, and returns when the job stops: after the cutover
   * with {@link Request#exitAfterCutover}, when the version was retired or dropped, or when the job
   * was cancelled after going live.
   *
   * @throws KappaException CONFLICT when the registry forbids the version; JOB_FAILED when the job
   *     fails or ends before it serves (the version is then recorded as failed, and running the
   *     same request again resumes it)
   */
  public void run() {
    ViewDefinition view = request.view();
    String version = request.version();
    try (ViewStore store = new ViewStore(storeConfig);
        ViewRegistry registry = new ViewRegistry(storeConfig)) {
      Plan plan = plan(store, registry);
      KappaBeamOptions options = plan.options();
      RunnerSupports.check(options);
      KappaBeamPipeline.ensureOutputTopics(options);
      Map<TopicPartition, Long> start;
      try (KafkaOffsets kafka = new KafkaOffsets(KappaBeamPipeline.kafkaClients(options))) {
        List<TopicPartition> partitions = kafka.partitions(options.getTopic());
        start = kafka.offsets(partitions, KafkaOffsets.parseStartPoint(plan.row().startPoint()));
        // A fresh group starts at the start point; a resumed one is rewound to it (see class doc).
        kafka.commit(plan.row().consumerGroup(), start);
      }
      store.createTable(view, version);
      RunPlan pipeline = KappaBeamPipeline.plan(options);
      Optional<String> live = registry.live(view.name());
      out.info(
          String.format(
              "kb: reprocessing %s into %s from %s of %s (group %s, %s, fingerprint %s)%s",
              view.name(),
              version,
              plan.row().startPoint(),
              options.getTopic(),
              plan.row().consumerGroup(),
              options.getRunner().getSimpleName(),
              plan.row().fingerprint(),
              live.map(l -> "; " + l + " keeps serving").orElse("; no version is live yet")));
      PipelineResult result = AsyncRun.start(pipeline.pipeline(), version);
      JobHost host =
          JobHost.started(
              registry,
              List.of(registry.get(view.name(), version).orElseThrow()),
              options.getRunner().getSimpleName(),
              result);
      host.publishingTo(new VersionCounters(storeConfig));
      Thread onExit = host.stopOnExit(result);
      try {
        watch(store, registry, host, result, options, start);
      } catch (RuntimeException e) {
        if (host.hasEnded()) {
          throw e;
        }
        // The job or this controller failed (the store beyond the grace, a crashed pipeline): the
        // run is failed with its cause; only a requested stop is recorded as stopped.
        JobHost.cancelQuietly(result);
        String cause = JobHost.failureCause(e);
        out.info("kb: the job of " + version + " failed: " + cause);
        host.failed(cause);
        throw new KappaException(
            KappaException.Kind.JOB_FAILED,
            "the reprocess of "
                + version
                + " failed: "
                + cause
                + "; run the same kb reprocess again to resume it",
            e);
      } finally {
        JobHost.removeHook(onExit);
      }
    }
  }

  /** Registers the new version, or finds the one to resume (see the class doc). */
  private Plan plan(ViewStore store, ViewRegistry registry) {
    ViewDefinition view = request.view();
    String version = request.version();
    Optional<RegisteredVersion> existing = registry.get(view.name(), version);
    if (existing.isPresent() && existing.get().status() != Status.DROPPED) {
      return resumePlan(existing.get());
    }
    if (store.tableExists(view, version)) {
      throw new KappaException(
          KappaException.Kind.CONFLICT,
          "table "
              + ViewStore.tableName(view, version)
              + " exists but the registry does not know it; pick a new version");
    }
    String topic = request.topic();
    if (topic == null) {
      topic =
          registry
              .live(view.name())
              .flatMap(l -> registry.get(view.name(), l))
              .map(RegisteredVersion::topic)
              .orElseThrow(
                  () ->
                      new IllegalArgumentException(
                          "no live version of "
                              + view.name()
                              + " to take the topic from; pass --topic"));
    }
    KappaBeamOptions o = options(topic, "kappa-beam." + topic + "." + version);
    RegisteredVersion row = registry.register(VersionRun.building(view, o, request.from()));
    return new Plan(row, o, false);
  }

  private Plan resumePlan(RegisteredVersion e) {
    ViewDefinition view = request.view();
    String version = request.version();
    // A controller killed after its cutover left a live version whose job is dead: running it
    // again restarts that job (the switch itself is done and is not repeated).
    boolean crashedLive =
        e.status() == Status.LIVE
            && List.of("dead", RegisteredVersion.FAILED)
                .contains(JobHost.describe(e, request.staleAfter()));
    if (e.status() != Status.BUILDING && !crashedLive) {
      throw new KappaException(
          KappaException.Kind.CONFLICT,
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
    if (JobHost.alive(e, request.staleAfter())) {
      throw new KappaException(
          KappaException.Kind.CONFLICT,
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
    if (request.topic() != null && !request.topic().equals(e.topic())) {
      throw new IllegalArgumentException(
          "version " + version + " reads topic " + e.topic() + ", not " + request.topic());
    }
    KappaBeamOptions o = options(e.topic(), e.consumerGroup());
    if (jobs.logicGiven()) {
      String fp = VersionCode.fingerprint(view, KappaBeamPipeline.parameters(o));
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
      RecordedLogic.applyTo(e.jobArgs(), o);
      // The recorded logic with this code: another fingerprint means another build of the view's
      // code (a plug-in's logic lives in its classes), which never resumes a version.
      String fp = VersionCode.fingerprint(view, KappaBeamPipeline.parameters(o));
      if (!fp.equals(e.fingerprint())) {
        throw new IllegalArgumentException(
            "version "
                + version
                + " was built by other code (fingerprint "
                + e.fingerprint()
                + ", this build's "
                + fp
                + "); a version resumes only under the code that started it: reprocess into a"
                + " new version");
      }
    }
    out.info(
        String.format(
            "kb: resuming version %s of %s (its job %s is %s): replaying from %s%s",
            version,
            view.name(),
            e.jobId(),
            JobHost.describe(e, request.staleAfter()),
            e.startPoint(),
            crashedLive ? "; it is live already, so there is no cutover to make" : ""));
    return new Plan(e, o, true);
  }

  private void watch(
      ViewStore store,
      ViewRegistry registry,
      JobHost host,
      PipelineResult result,
      KappaBeamOptions options,
      Map<TopicPartition, Long> start) {
    ViewDefinition view = request.view();
    String version = request.version();
    long begun = System.nanoTime();
    boolean live = false;
    try (CatchUpWatch watch =
        new CatchUpWatch(
            KappaBeamPipeline.kafkaClients(options),
            StoreConfigs.of(options),
            options.getTopic(),
            options.getConsumerGroup(),
            options.getRunId(),
            start,
            request.caughtUpLag(),
            request.caughtUpFor(),
            () -> store.progress(view, version))) {
      while (true) {
        PipelineResult.State s = result.waitUntilFinish(org.joda.time.Duration.millis(TICK_MILLIS));
        if (s != null && s.isTerminal()) {
          ended(host, s);
          if (live && s == PipelineResult.State.CANCELLED) {
            return;
          }
          throw new KappaException(
              KappaException.Kind.JOB_FAILED, "the job of " + version + " ended in state " + s);
        }
        if (!host.beat()) {
          out.info(
              String.format(
                  "kb: %s of %s is no longer building or live; stopping its job",
                  version, view.name()));
          JobHost.cancelQuietly(result);
          host.ended(RegisteredVersion.STOPPED);
          return;
        }
        CatchUpWatch.Tick tick = watch.tick();
        host.publish(RunCounters.withRead(RunCounters.of(result, true), tick.verdict().read()));
        if (live) {
          continue;
        }
        ViewStore.TableProgress progress = store.progress(view, version);
        out.info(
            String.format(
                "kb: %s %s, %,d rows, view head %s",
                version,
                tick.line(),
                progress.rows(),
                progress.newestEventTime() == null ? "-" : progress.newestEventTime()));
        if (tick.verdict().caughtUp()) {
          registry.caughtUp(view.name(), version, Instant.now().minus(tick.verdict().steadyFor()));
          out.info(
              String.format(
                  "kb: %s caught up after %d s (%,d records read)",
                  version, (System.nanoTime() - begun) / 1_000_000_000L, tick.verdict().read()));
          goLive(registry);
          live = true;
          if (request.exitAfterCutover()) {
            JobHost.cancelQuietly(result);
            host.ended(RegisteredVersion.STOPPED);
            out.info(
                "kb: stopped the job of "
                    + version
                    + " (--exit-after-cutover); restart it with: kb run --mode streaming --topic "
                    + options.getTopic()
                    + " --version "
                    + version
                    + " --views "
                    + view.name()
                    + " --resume");
            return;
          }
          out.info("kb: this process keeps running the job of " + version + "; Ctrl-C stops it");
        }
      }
    }
  }

  private static void ended(JobHost host, PipelineResult.State s) {
    if (s == PipelineResult.State.DONE || s == PipelineResult.State.CANCELLED) {
      host.ended(
          s == PipelineResult.State.DONE ? RegisteredVersion.DONE : RegisteredVersion.STOPPED);
    } else {
      host.failed("the pipeline ended in state " + s);
    }
  }

  /** The cutover (or, without one, the word that the version is ready for it). */
  private void goLive(ViewRegistry registry) {
    ViewDefinition view = request.view();
    if (!request.cutover()) {
      out.caughtUp(view, request.version());
      return;
    }
    CutoverPauseForTests.beforeSwitch(request.version());
    Versions.Cutover cut = Versions.cutover(registry, view, request.version());
    out.cutOver(view, request.version(), cut.change(), cut.previous());
  }
}
