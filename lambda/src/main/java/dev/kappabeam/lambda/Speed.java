package dev.kappabeam.lambda;

import dev.kappabeam.kappa.CatchUpWatch;
import dev.kappabeam.kappa.JobOptions;
import dev.kappabeam.kappa.VersionRun;
import dev.kappabeam.pipelines.KappaBeamPipeline;
import dev.kappabeam.pipelines.kafka.DedupPrimer;
import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.pipelines.options.RunMode;
import dev.kappabeam.serving.LambdaRegistry;
import dev.kappabeam.serving.StoreConfig;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.Views;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.common.TopicPartition;

/**
 * The Lambda speed layer. Starts a streaming job from the newest completed batch's cutoff offsets
 * into the speed tables {@code <view>__lambda_s<N>}; once it has caught up with the log (the rule a
 * Kappa reprocess uses before its cutover), rebases readers atomically onto (batch N, speed N) and
 * retires the previous speed version, whose job then stops. The speed job counts no record before
 * cutoff N, so no event is in both tables; see {@link LambdaRegistry}. It does read the records of
 * one de-duplication horizon before the cutoff ({@link DedupPrimer}), only to recognise re-sent
 * copies after the cutoff of events the batch already counted. {@code kb speed} is this class
 * behind flags.
 *
 * <p>A restart replays from the cutoff into the same tables: a stopped job's window state is gone,
 * and panes of a continuation would carry only the new events (the sink keeps the larger pane per
 * key). The speed layer only holds the log since the cutoff, so this is cheap; the idempotent
 * upserts make the replay land exactly.
 */
public final class Speed {
  /**
   * What to stream.
   *
   * @param views the views, built by the same batch
   * @param drain read up to the end offsets at launch, rebase and stop (else run until stopped)
   * @param caughtUpLag open-ended: caught up when at most this many records are unread...
   * @param caughtUpFor ... continuously for this long, with the speed tables settled
   */
  public record Request(
      List<ViewDefinition> views, boolean drain, long caughtUpLag, Duration caughtUpFor) {}

  /**
   * No event before the cutoff: none waits. Event times start at the epoch ({@code
   * EventParser.MIN_TIMESTAMP_MILLIS}), so this is before all of them.
   */
  private static final String MIN_EVENT_TIME = "1969-12-31T23:59:59.999Z";

  private final StoreConfig store;
  private final JobOptions jobs;
  private final VersionRun.Listener out;

  /**
   * @param store the serving store, with the outage grace the controller rides out
   */
  public Speed(StoreConfig store, JobOptions jobs, VersionRun.Listener out) {
    this.store = store;
    this.jobs = jobs;
    this.out = out;
  }

  /** Streams from the newest batch's cutoff, rebases readers once caught up; see the class doc. */
  public void run(Request request) {
    try (LambdaRegistry lambda = new LambdaRegistry(store)) {
      run(request, lambda);
    }
  }

  private void run(Request request, LambdaRegistry lambda) {
    List<ViewDefinition> views = request.views();
    LambdaRegistry.Cutoff cutoff = newestBatch(lambda, views);
    String version = cutoff.speedVersion();
    boolean exists;
    try (ViewStore tables = new ViewStore(store)) {
      exists = tables.tableExists(Views.lambdaPartial(views.get(0)), version);
    }
    KappaBeamOptions o = jobs.build(RunMode.STREAMING, request.drain());
    DedupPrimer.Primer primed =
        DedupPrimer.startOffsets(
            KappaBeamPipeline.kafkaClients(o),
            KappaBeamPipeline.format(views),
            toPartitions(cutoff),
            duration(o.getDedupHorizon(), "--dedup-horizon"),
            duration(o.getMaxOutOfOrderness(), "--max-out-of-orderness"),
            duration(o.getAllowedLateness(), "--allowed-lateness"));
    Map<TopicPartition, Long> primerStart = primed.start();
    o.setCountFromOffsets(cutoff.offsetsText());
    o.setPrimedUntil(primed.newest().map(Instant::toString).orElse(MIN_EVENT_TIME));
    o.setLambdaPartials(true);
    VersionRun.targeting(
        o,
        cutoff.topic(),
        version,
        String.join(",", views.stream().map(ViewDefinition::name).toList()),
        null);
    if (exists) {
      out.info("kb: restarting " + version + ": replaying from the cutoff");
    }
    out.info(
        String.format(
            "kb: speed %s from cutoff %d (%s); reads %,d records before it only to prime"
                + " de-duplication",
            version,
            cutoff.id(),
            cutoff.offsetsText(),
            DedupPrimer.primerRecords(primerStart, toPartitions(cutoff))));
    VersionRun run =
        new VersionRun(
            new VersionRun.Request(
                o, "earliest", LambdaRegistry.formatOffsets(byPartition(primerStart)), exists),
            out);
    if (request.drain()) {
      run.run();
      rebase(lambda, views, cutoff);
      return;
    }
    runUntilStopped(run, o, lambda, cutoff, primerStart, request);
  }

  /** Open-ended: the job runs in this process; readers are rebased once it caught up. */
  private void runUntilStopped(
      VersionRun run,
      KappaBeamOptions o,
      LambdaRegistry lambda,
      LambdaRegistry.Cutoff cutoff,
      Map<TopicPartition, Long> primerStart,
      Request request) {
    String version = cutoff.speedVersion();
    AtomicReference<RuntimeException> failure = new AtomicReference<>();
    Thread job =
        new Thread(
            () -> {
              try {
                run.run();
              } catch (RuntimeException e) {
                failure.set(e);
              }
            },
            "kb-speed-" + version);
    job.start();
    boolean rebased = false;
    try (ViewStore tables = new ViewStore(store);
        CatchUpWatch watch =
            new CatchUpWatch(
                KappaBeamPipeline.kafkaClients(o),
                store,
                cutoff.topic(),
                KappaBeamPipeline.consumerGroup(o),
                o.getRunId(),
                primerStart,
                request.caughtUpLag(),
                request.caughtUpFor(),
                () -> speedTables(tables, request.views(), version))) {
      while (job.isAlive()) {
        job.join(2000);
        if (!rebased && job.isAlive()) {
          CatchUpWatch.Tick tick = watch.tick();
          out.info(String.format("kb: speed %s %s", version, tick.line()));
          if (tick.verdict().caughtUp()) {
            rebase(lambda, request.views(), cutoff);
            rebased = true;
            out.info(
                "kb: this process keeps running the speed job of " + version + "; Ctrl-C stops it");
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (failure.get() != null) {
      throw failure.get();
    }
  }

  private static LambdaRegistry.Cutoff newestBatch(
      LambdaRegistry lambda, List<ViewDefinition> views) {
    String first = views.get(0).name();
    LambdaRegistry.Cutoff cutoff =
        lambda
            .latestBatch(first)
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "no completed batch of "
                            + first
                            + "; run kb batch --view "
                            + String.join(",", views.stream().map(ViewDefinition::name).toList())
                            + " first"));
    for (ViewDefinition v : views) {
      if (lambda.cutoff(v.name(), cutoff.id()).filter(c -> "done".equals(c.status())).isEmpty()) {
        throw new IllegalArgumentException(
            "cutoff "
                + cutoff.id()
                + " has no batch of "
                + v.name()
                + "; batch the views together");
      }
    }
    return cutoff;
  }

  private static Duration duration(String iso, String flag) {
    return Duration.ofMillis(KappaBeamPipeline.duration(iso, flag).getMillis());
  }

  private static Map<TopicPartition, Long> toPartitions(LambdaRegistry.Cutoff cutoff) {
    Map<TopicPartition, Long> partitions = new LinkedHashMap<>();
    new TreeMap<>(cutoff.offsets())
        .forEach((p, at) -> partitions.put(new TopicPartition(cutoff.topic(), p), at));
    return partitions;
  }

  private static Map<Integer, Long> byPartition(Map<TopicPartition, Long> offsets) {
    Map<Integer, Long> partitions = new TreeMap<>();
    offsets.forEach((tp, at) -> partitions.put(tp.partition(), at));
    return partitions;
  }

  /** What changes when a speed table changes: each view's row count and progress sum. */
  private static Object speedTables(ViewStore tables, List<ViewDefinition> views, String version) {
    List<ViewStore.TableProgress> progress = new ArrayList<>();
    for (ViewDefinition v : views) {
      progress.add(tables.progress(Views.lambdaPartial(v), version));
    }
    return progress;
  }

  private void rebase(
      LambdaRegistry lambda, List<ViewDefinition> views, LambdaRegistry.Cutoff cutoff) {
    for (ViewDefinition v : views) {
      LambdaRegistry.Live live =
          lambda.rebase(v, lambda.cutoff(v.name(), cutoff.id()).orElseThrow());
      out.info(
          String.format(
              "kb: %s_lambda now reads %s + %s",
              v.name(), live.batchVersion(), live.speedVersion()));
    }
  }
}
