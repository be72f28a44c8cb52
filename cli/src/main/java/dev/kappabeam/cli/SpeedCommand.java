package dev.kappabeam.cli;

import dev.kappabeam.pipelines.KappaBeamPipeline;
import dev.kappabeam.pipelines.kafka.DedupPrimer;
import dev.kappabeam.pipelines.options.RunMode;
import dev.kappabeam.serving.LambdaRegistry;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.Views;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Unmatched;

/**
 * {@code kb speed}: the Lambda speed layer. Starts a streaming job from the newest completed
 * batch's cutoff offsets into the speed tables {@code <view>__lambda_s<N>}; once it has caught up
 * with the log, rebases readers atomically onto (batch N, speed N) and retires the previous speed
 * version, whose job then stops. The speed job counts no record before cutoff N, so no event is in
 * both tables; see {@link LambdaRegistry}. It does read the records of one de-duplication horizon
 * before the cutoff ({@link DedupPrimer}), only to recognise re-sent copies after the cutoff of
 * events the batch already counted.
 */
@Command(
    name = "speed",
    description = {
      "Lambda speed layer: stream from the newest batch cutoff, then switch readers to it.",
      "With --drain-when-caught-up it stops once caught up (scripted runs and tests)."
    },
    mixinStandardHelpOptions = true)
final class SpeedCommand implements Runnable {
  @Mixin Connections connections;
  @Mixin LogicFlags logic;
  @Mixin OutageGrace outageGrace;

  @Option(
      names = {"--view", "--views"},
      required = true,
      description = "View(s), comma-separated, built by the same kb batch.")
  String views;

  @Option(
      names = "--drain-when-caught-up",
      description = "Read up to the end offsets at launch, write, commit, rebase and stop.")
  boolean drain;

  @Option(
      names = "--caught-up-lag",
      defaultValue = "0",
      description =
          "Caught up when at most this many records of the log are unread (default"
              + " ${DEFAULT-VALUE}).")
  long caughtUpLag;

  @Option(
      names = "--caught-up-for",
      defaultValue = "PT10S",
      description =
          "... continuously for this long, with the speed tables settled (default"
              + " ${DEFAULT-VALUE}).")
  String caughtUpFor;

  @Unmatched List<String> beamArgs = new ArrayList<>();

  @Override
  public void run() {
    List<ViewDefinition> selected = LambdaSupport.views(views);
    // Rides out outages while the speed job runs (rebasing readers), as the job does.
    LambdaRegistry lambda = new LambdaRegistry(outageGrace.apply(LambdaSupport.store(connections)));
    LambdaRegistry.Cutoff cutoff =
        lambda
            .latestBatch(selected.get(0).name())
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "no completed batch of "
                            + selected.get(0).name()
                            + "; run kb batch --view "
                            + views
                            + " first"));
    for (ViewDefinition v : selected) {
      if (lambda.cutoff(v.name(), cutoff.id()).filter(c -> "done".equals(c.status())).isEmpty()) {
        throw new IllegalArgumentException(
            "cutoff "
                + cutoff.id()
                + " has no batch of "
                + v.name()
                + "; batch the views together");
      }
    }
    String version = cutoff.speedVersion();
    boolean exists;
    try (ViewStore store = new ViewStore(LambdaSupport.store(connections))) {
      exists = store.tableExists(Views.lambdaPartial(selected.get(0)), version);
    }
    DedupPrimer.Primer primed = primer(cutoff);
    Map<TopicPartition, Long> primerStart = primed.start();
    long primer = DedupPrimer.primerRecords(primerStart, toPartitions(cutoff));
    RunCommand run =
        RunCommand.inner(
            connections,
            outageGrace,
            logic,
            beamArgs,
            RunMode.STREAMING,
            cutoff.topic(),
            version,
            LambdaSupport.names(selected));
    run.startOffsets = LambdaRegistry.formatOffsets(byPartition(primerStart));
    run.countFromOffsets = cutoff.offsetsText();
    run.primedUntil = primed.newest().map(java.time.Instant::toString).orElse(MIN_EVENT_TIME);
    run.lambdaPartials = true;
    run.drainWhenCaughtUp = drain;
    if (exists) {
      // A restart replays from the cutoff into the same tables: a stopped job's window state is
      // gone, and panes of a continuation would carry only the new events (the sink keeps the
      // larger pane per key). The speed layer only holds the log since the cutoff, so this is
      // cheap; the idempotent upserts make the replay land exactly.
      run.resume = true;
      System.err.println("kb: restarting " + version + ": replaying from the cutoff");
    }
    String runId = run.runId;
    java.time.Duration hold = RegistryCommands.duration(caughtUpFor, "--caught-up-for");
    System.err.printf(
        "kb: speed %s from cutoff %d (%s); reads %,d records before it only to prime"
            + " de-duplication%n",
        version, cutoff.id(), cutoff.offsetsText(), primer);
    if (drain) {
      run.run();
      rebase(lambda, selected, cutoff);
      return;
    }
    // Open-ended: the job runs in this process; rebase readers once it caught up with the log
    // (the rule kb reprocess uses before a cutover).
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
    String group = "kappa-beam." + cutoff.topic() + "." + version;
    boolean rebased = false;
    try (ViewStore store = new ViewStore(outageGrace.apply(LambdaSupport.store(connections)));
        CatchUpWatch watch =
            new CatchUpWatch(
                connections.kafka(),
                outageGrace.apply(LambdaSupport.store(connections)),
                cutoff.topic(),
                group,
                runId,
                primerStart,
                caughtUpLag,
                hold,
                () -> speedTables(store, selected, version))) {
      while (job.isAlive()) {
        job.join(2000);
        if (!rebased && job.isAlive()) {
          CatchUpWatch.Tick tick = watch.tick();
          System.err.printf("kb: speed %s %s%n", version, tick.line());
          if (tick.verdict().caughtUp()) {
            rebase(lambda, selected, cutoff);
            rebased = true;
            System.err.println(
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

  /**
   * No event before the cutoff: none waits. Event times start at the epoch ({@code
   * EventParser.MIN_TIMESTAMP_MILLIS}), so this is before all of them.
   */
  private static final String MIN_EVENT_TIME = "1969-12-31T23:59:59.999Z";

  /** Where the speed job starts: one de-duplication reach before the cutoff. */
  private DedupPrimer.Primer primer(LambdaRegistry.Cutoff cutoff) {
    return DedupPrimer.startOffsets(
        connections.kafka(),
        toPartitions(cutoff),
        duration(logic.dedupHorizon, "--dedup-horizon"),
        duration(logic.maxOutOfOrderness, "--max-out-of-orderness"),
        duration(logic.allowedLateness, "--allowed-lateness"));
  }

  private static java.time.Duration duration(String iso, String flag) {
    return java.time.Duration.ofMillis(KappaBeamPipeline.duration(iso, flag).getMillis());
  }

  private static Map<TopicPartition, Long> toPartitions(LambdaRegistry.Cutoff cutoff) {
    Map<TopicPartition, Long> out = new java.util.LinkedHashMap<>();
    new java.util.TreeMap<>(cutoff.offsets())
        .forEach((p, o) -> out.put(new TopicPartition(cutoff.topic(), p), o));
    return out;
  }

  private static Map<Integer, Long> byPartition(Map<TopicPartition, Long> offsets) {
    Map<Integer, Long> out = new java.util.TreeMap<>();
    offsets.forEach((tp, o) -> out.put(tp.partition(), o));
    return out;
  }

  /** What changes when a speed table changes: each view's row count and progress sum. */
  private static Object speedTables(ViewStore store, List<ViewDefinition> views, String version) {
    List<ViewStore.TableProgress> out = new ArrayList<>();
    for (ViewDefinition v : views) {
      out.add(store.progress(Views.lambdaPartial(v), version));
    }
    return out;
  }

  private static void rebase(
      LambdaRegistry lambda, List<ViewDefinition> views, LambdaRegistry.Cutoff cutoff) {
    for (ViewDefinition v : views) {
      LambdaRegistry.Live live =
          lambda.rebase(v, lambda.cutoff(v.name(), cutoff.id()).orElseThrow());
      System.err.printf(
          "kb: %s_lambda now reads %s + %s%n", v.name(), live.batchVersion(), live.speedVersion());
    }
  }
}
