package dev.kappabeam.cli;

import static dev.kappabeam.cli.EndToEndSupport.assertRows;
import static dev.kappabeam.cli.EndToEndSupport.kbArgs;
import static dev.kappabeam.cli.EndToEndSupport.kbOk;
import static dev.kappabeam.cli.EndToEndSupport.startKbProcess;
import static dev.kappabeam.cli.EndToEndSupport.uniqueTopic;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kappabeam.generator.GeneratedRecord;
import dev.kappabeam.generator.Oracle;
import dev.kappabeam.generator.WorkloadGenerator;
import dev.kappabeam.kappa.CutoverPauseForTests;
import dev.kappabeam.serving.RegisteredVersion;
import dev.kappabeam.serving.RegisteredVersion.Status;
import dev.kappabeam.serving.StoreConfig;
import dev.kappabeam.serving.VersionCounters;
import dev.kappabeam.serving.ViewRegistry;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.CounterNames;
import dev.kappabeam.transforms.events.EventType;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.Views;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.apache.beam.sdk.values.Row;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code kill -9} of the {@code kb reprocess} controller (a JVM of its own; on DirectRunner and
 * Flink {@code [local]} the job runs inside it and dies with it) at three points: during the
 * catch-up, inside the cutover just before the alias switch, and just after the switch. Each time
 * {@code kb status} reports the job dead, running the same {@code kb reprocess} again resumes it
 * and ends with the new version live and equal to the oracle, the published counters add up and
 * nothing reaches {@code <topic>.late}; a reader querying the live alias throughout only ever sees
 * all of v1 or all of v2.
 *
 * <p>The kill inside the cutover is placed by the test-only pause {@link CutoverPauseForTests}; the
 * one after the switch waits for the controller's {@code cut over:} line (without {@code
 * --exit-after-cutover} it then keeps running the new version's job, so it is killed while it hosts
 * a live version). The workload's event times are two hours old, with an allowed lateness and a
 * de-duplication horizon of 6 h, so that nothing is late whatever the replay's interleaving.
 */
@Tag("faults")
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ControllerKillIT {
  private static final ViewDefinition VIEW = Views.ACTIVITY_PER_MINUTE;
  private static final String LATENESS = "PT6H";
  private static final int RECORDS = 1200;

  private static ItStack it;

  /** Where the controller dies. */
  enum KillPoint {
    /** Registered and writing rows, not caught up. */
    CATCH_UP,
    /** Caught up and recorded so, the alias not switched yet. */
    BEFORE_SWITCH,
    /** The switch committed: the new version is live and this controller hosts its job. */
    AFTER_SWITCH
  }

  @BeforeAll
  static void startStack() {
    it = ItStack.start("ControllerKillIT");
  }

  @AfterAll
  static void stopStack() {
    if (it != null) {
      it.close();
    }
  }

  @ParameterizedTest(name = "killed at {0} on {1}")
  @CsvSource({
    "CATCH_UP, direct",
    "BEFORE_SWITCH, direct",
    "AFTER_SWITCH, direct",
    "CATCH_UP, flink",
    "BEFORE_SWITCH, flink",
    "AFTER_SWITCH, flink"
  })
  void aKilledControllerIsDeadAndTheSameReprocessResumesIt(KillPoint point, String runner)
      throws Exception {
    String tag = point.name().toLowerCase(Locale.ROOT).replace("_", "") + "_" + runner;
    String v1 = "k1_" + tag;
    String v2 = "k2_" + tag;
    String topic = uniqueTopic("kill-" + tag.replace('_', '-'));
    kbOk(it.stack, "topics", "create", topic, "--partitions", "2");
    List<GeneratedRecord> records = workload(point.ordinal() + 70L);
    produce(topic, records);
    Oracle.Result v1Oracle =
        Oracle.computeFromRecords(
            records, parameters().withExcludedTypes(EnumSet.of(EventType.VIEW)));
    Oracle.Result v2Oracle = Oracle.computeFromRecords(records, parameters());

    // v1 (other logic: "view" events left out) is live before the reprocess starts.
    kbOk(
        it.stack,
        "run",
        "--mode",
        "historical",
        "--topic",
        topic,
        "--version",
        v1,
        "--views",
        VIEW.name(),
        "--exclude-types",
        "view",
        "--allowed-lateness",
        LATENESS,
        "--dedup-horizon",
        LATENESS);
    kbOk(it.stack, "cutover", "--view", VIEW.name(), "--version", v1);
    List<Row> v1Rows = it.store.readAll(VIEW, v1);
    assertRows(VIEW, v1Oracle.rows(VIEW), "v1 oracle", v1Rows, v1);
    List<Row> v2Expected = v2Oracle.rows(VIEW);

    LiveReader reader = LiveReader.start(it.config, v1Rows, v2Expected);
    try (ViewRegistry registry = new ViewRegistry(it.config)) {
      // The first controller, in a JVM of its own.
      File log = logFile(tag);
      Path pause = log.toPath().toAbsolutePath().resolveSibling(log.getName() + ".pause");
      List<String> jvm =
          point == KillPoint.BEFORE_SWITCH
              ? List.of("-D" + CutoverPauseForTests.PROPERTY + "=" + pause)
              : List.of();
      List<String> first =
          reprocess(
              runner,
              v2,
              "--topic",
              topic,
              "--allowed-lateness",
              LATENESS,
              "--dedup-horizon",
              LATENESS,
              // During the catch-up case, a hold that cannot end before the kill.
              "--caught-up-for",
              point == KillPoint.CATCH_UP ? "PT10M" : "PT4S");
      Process controller = startKbProcess(jvm, first, log);
      long killedAt;
      try {
        switch (point) {
          case CATCH_UP ->
              await(
                  v2 + " has rows and has not caught up",
                  () ->
                      registry.get(VIEW.name(), v2).map(v -> v.jobState() != null).orElse(false)
                          && it.store.tableExists(VIEW, v2)
                          && it.store.progress(VIEW, v2).rows() > 0,
                  controller,
                  log);
          case BEFORE_SWITCH ->
              await(
                  "the controller pauses before the switch",
                  () -> Files.exists(pause),
                  controller,
                  log);
          case AFTER_SWITCH ->
              await(
                  "the controller has cut over",
                  () -> read(log).contains("cut over: " + VIEW.name() + " now reads " + v2),
                  controller,
                  log);
        }
      } finally {
        controller.destroyForcibly(); // SIGKILL: no shutdown hook runs
        killedAt = System.nanoTime();
        assertTrue(controller.waitFor(30, TimeUnit.SECONDS), "the controller did not die");
        Files.deleteIfExists(pause);
      }
      assertEquals(137, controller.exitValue(), "killed by SIGKILL\n" + read(log));

      // What the kill left behind.
      RegisteredVersion killed = registry.get(VIEW.name(), v2).orElseThrow();
      assertEquals(RegisteredVersion.RUNNING, killed.jobState(), "no end recorded: " + killed);
      switch (point) {
        case CATCH_UP -> {
          assertEquals(Status.BUILDING, killed.status());
          assertNull(killed.caughtUpAt(), "killed before the catch-up");
          assertEquals(Optional.of(v1), registry.live(VIEW.name()));
        }
        case BEFORE_SWITCH -> {
          assertEquals(Status.BUILDING, killed.status());
          assertNotNull(killed.caughtUpAt(), "killed after the catch-up was recorded");
          assertEquals(Optional.of(v1), registry.live(VIEW.name()), "the switch never happened");
        }
        case AFTER_SWITCH -> {
          assertEquals(Status.LIVE, killed.status());
          assertEquals(Optional.of(v2), registry.live(VIEW.name()));
          assertEquals(Status.RETIRED, registry.get(VIEW.name(), v1).orElseThrow().status());
        }
      }
      InProcessKb.Result status = kbOk(it.stack, "status", "--view", VIEW.name());
      assertTrue(
          status.out().contains("job " + killed.jobId() + " is dead")
              && status.out().contains("resume with: kb reprocess --view " + VIEW.name()),
          "kb status reports the killed job dead and how to resume it\n" + status.out());

      // The same kb reprocess again, without the logic flags: it resumes and cuts over.
      InProcessKb.Result resumed =
          InProcessKb.run(reprocess(runner, v2, "--caught-up-for", "PT4S", "--exit-after-cutover"));
      double recovered = (System.nanoTime() - killedAt) / 1e9;
      assertEquals(0, resumed.exitCode(), resumed.describe());
      assertTrue(resumed.err().contains("resuming version " + v2), resumed.describe());
      reader.stop();

      assertRows(VIEW, v2Expected, "v2 oracle", it.store.readAll(VIEW, v2), v2);
      assertRows(VIEW, v2Expected, "v2 oracle", it.store.readLive(VIEW), "the live alias");
      assertEquals(Optional.of(v2), registry.live(VIEW.name()));
      RegisteredVersion after = registry.get(VIEW.name(), v2).orElseThrow();
      assertEquals(Status.LIVE, after.status());
      assertEquals(RegisteredVersion.STOPPED, after.jobState(), "--exit-after-cutover: " + after);
      assertEquals(Status.RETIRED, registry.get(VIEW.name(), v1).orElseThrow().status());
      assertTrue(it.store.tableExists(VIEW, v1), "v1 is kept for rollback");
      assertCounters(v2, v2Oracle, runner);
      assertEquals(List.of(), it.kafka.readAll(topic + ".late"), "nothing on the late topic");
      reader.assertOnlyWholeVersions();
      assertTrue(recovered < 120, "recovered in " + recovered + " s");

      // The retired v1 is dropped as after any reprocess; v2 keeps serving.
      kbOk(it.stack, "drop", "--view", VIEW.name(), "--version", v1);
      assertEquals(Status.DROPPED, registry.get(VIEW.name(), v1).orElseThrow().status());
      assertTrue(!it.store.tableExists(VIEW, v1), "v1's table is gone");
      assertRows(VIEW, v2Expected, "v2 oracle", it.store.readLive(VIEW), "the live alias");
      System.err.printf(
          Locale.ROOT,
          "ControllerKillIT %s on %s: kill to cutover by the re-run %.1f s (re-run %.1f s);"
              + " reader: %s%n",
          point,
          runner,
          recovered,
          resumed.elapsed().toMillis() / 1e3,
          reader);
    } finally {
      reader.stop();
    }
  }

  /**
   * Published counters of the resumed job: the oracle's, adding up, nothing late. A Flink job's
   * Beam metrics reach kb only when it ends, and a reprocess cancels its job: there only the
   * records read (which the job reports itself) are published and checked.
   */
  private static void assertCounters(String version, Oracle.Result oracle, String runner) {
    try (VersionCounters counters = new VersionCounters(it.config)) {
      VersionCounters.Snapshot c = counters.read(VIEW.name(), version);
      assertEquals(oracle.read(), c.get(CounterNames.READ), c.toString());
      if (runner.equals("flink")) {
        return;
      }
      assertEquals(
          c.get(CounterNames.READ),
          c.get(CounterNames.ACCEPTED)
              + c.get(CounterNames.DEAD_LETTERED)
              + c.get(CounterNames.DUPLICATES_REMOVED)
              + c.get(CounterNames.LATE),
          "read = accepted + dead-lettered + duplicates removed + late: " + c);
      assertEquals(0, c.get(CounterNames.LATE), c.toString());
      assertEquals(oracle.accepted(), c.get(CounterNames.ACCEPTED), c.toString());
      assertEquals(oracle.deadLettered(), c.get(CounterNames.DEAD_LETTERED), c.toString());
      assertEquals(oracle.duplicates(), c.get(CounterNames.DUPLICATES_REMOVED), c.toString());
    }
  }

  /**
   * Queries the live alias in a loop, as kb serve does, and remembers any read that is not exactly
   * v1's rows or v2's expected rows (a mix, a part, nothing) or that failed.
   */
  private static final class LiveReader implements Runnable {
    private final StoreConfig config;
    private final List<Row> v1;
    private final List<Row> v2;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicLong v1Reads = new AtomicLong();
    private final AtomicLong v2Reads = new AtomicLong();
    private final AtomicReference<String> problem = new AtomicReference<>();
    private Thread thread;

    private LiveReader(StoreConfig config, List<Row> v1, List<Row> v2) {
      this.config = config;
      this.v1 = v1;
      this.v2 = v2;
    }

    static LiveReader start(StoreConfig config, List<Row> v1, List<Row> v2) {
      LiveReader r = new LiveReader(config, v1, v2);
      r.thread = new Thread(r, "live-alias-reader");
      r.thread.start();
      return r;
    }

    @Override
    public void run() {
      try (ViewStore store = new ViewStore(config)) {
        while (!stop.get()) {
          List<Row> rows = store.readLive(VIEW);
          if (rows.equals(v1)) {
            v1Reads.incrementAndGet();
          } else if (rows.equals(v2)) {
            v2Reads.incrementAndGet();
          } else {
            problem.compareAndSet(
                null,
                "a read of "
                    + rows.size()
                    + " rows is neither v1 ("
                    + v1.size()
                    + " rows) nor v2 ("
                    + v2.size()
                    + " rows)");
          }
          Thread.sleep(1); // about as often as it can, without taking a core to itself
        }
      } catch (RuntimeException e) {
        problem.compareAndSet(null, "a read failed: " + e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    void stop() throws InterruptedException {
      stop.set(true);
      thread.join(30_000);
    }

    void assertOnlyWholeVersions() {
      assertNull(problem.get(), toString());
      assertTrue(v1Reads.get() > 0 && v2Reads.get() > 0, "the reader saw both versions: " + this);
    }

    @Override
    public String toString() {
      return v1Reads + " reads of v1, " + v2Reads + " of v2, other: " + problem.get();
    }
  }

  private static List<String> reprocess(String runner, String version, String... more) {
    List<String> args = new ArrayList<>(List.of("reprocess", "--view", VIEW.name()));
    args.add("--version");
    args.add(version);
    args.addAll(List.of(more));
    args.addAll(runnerArgs(runner));
    List<String> all = kbArgs(it.stack, args.toArray(new String[0]));
    all.add("--data-dir=" + it.stack.dataDir());
    return all;
  }

  private static List<String> runnerArgs(String runner) {
    return switch (runner) {
      case "direct" -> List.of();
      case "flink" -> List.of("--runner=FlinkRunner", "--flinkMaster=[local]");
      default -> throw new IllegalArgumentException(runner);
    };
  }

  /** Two hours old, so every window has closed once the job caught up. */
  private static List<GeneratedRecord> workload(long seed) {
    return WorkloadGenerator.seeded(seed)
        .withCount(RECORDS)
        .withStart(Instant.now().truncatedTo(ChronoUnit.HOURS).minus(Duration.ofHours(2)))
        .withEventsPerSecond(2)
        .withOutOfOrderFraction(0.05)
        .withLateFraction(0.01)
        .withDuplicateFraction(0.03)
        .withMalformedFraction(0.02)
        .generate();
  }

  private static ViewParameters parameters() {
    return ViewParameters.defaults()
        .withAllowedLateness(org.joda.time.Duration.standardHours(6))
        .withDedupHorizon(org.joda.time.Duration.standardHours(6));
  }

  private static void produce(String topic, List<GeneratedRecord> records) {
    List<ProducerRecord<byte[], byte[]>> sends = new ArrayList<>();
    for (GeneratedRecord r : records) {
      sends.add(new ProducerRecord<>(topic, r.key(), r.value()));
    }
    it.kafka.produce(sends);
  }

  private static void await(String what, BooleanSupplier condition, Process run, File log)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (!condition.getAsBoolean()) {
      if (!run.isAlive()) {
        fail("kb ended (exit " + run.exitValue() + ") before " + what + "\n" + read(log));
      }
      if (System.nanoTime() > deadline) {
        fail("timed out waiting until " + what + "\n" + read(log));
      }
      Thread.sleep(200);
    }
  }

  private static File logFile(String name) throws IOException {
    Path dir = Files.createDirectories(Path.of("target", "it-logs"));
    return dir.resolve("ControllerKillIT-" + name + "-" + System.currentTimeMillis() + ".log")
        .toFile();
  }

  private static String read(File f) {
    try {
      return Files.readString(f.toPath(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(cannot read " + f + ": " + e.getMessage() + ")";
    }
  }
}
