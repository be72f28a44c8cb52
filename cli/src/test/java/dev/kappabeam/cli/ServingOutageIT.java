package dev.kappabeam.cli;

import static dev.kappabeam.cli.EndToEndSupport.assertCounters;
import static dev.kappabeam.cli.EndToEndSupport.assertRows;
import static dev.kappabeam.cli.EndToEndSupport.distinctSources;
import static dev.kappabeam.cli.EndToEndSupport.expectedCounters;
import static dev.kappabeam.cli.EndToEndSupport.kb;
import static dev.kappabeam.cli.EndToEndSupport.kbArgs;
import static dev.kappabeam.cli.EndToEndSupport.kbOk;
import static dev.kappabeam.cli.EndToEndSupport.recordsRead;
import static dev.kappabeam.cli.EndToEndSupport.settledOn;
import static dev.kappabeam.cli.EndToEndSupport.startKbProcess;
import static dev.kappabeam.cli.EndToEndSupport.uniqueTopic;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kappabeam.generator.GeneratedRecord;
import dev.kappabeam.generator.Oracle;
import dev.kappabeam.generator.WorkloadGenerator;
import dev.kappabeam.serving.RegisteredVersion;
import dev.kappabeam.serving.VersionCounters;
import dev.kappabeam.serving.ViewDiff;
import dev.kappabeam.serving.ViewRegistry;
import dev.kappabeam.transforms.CounterNames;
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
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The serving database goes away under an open-ended streaming run ({@code kb run --mode streaming}
 * in a JVM of its own, DirectRunner) and comes back on the same port: the real H2 TCP server of the
 * test's stack is stopped (open connections break, new ones are refused) and started again, while
 * the broker keeps receiving records.
 *
 * <p>The times against the default grace (2 min, no {@code --outage-grace} flag): an outage
 * of 30 s (within) and of 3 min (beyond; the run fails at about 2 min and records its failure once
 * the store is back). The reprocess case keeps a short grace of its own (5 s). The workload's event
 * times are two hours old, with an allowed lateness and a de-duplication horizon of 6 h, so that
 * however the reads interleave with the outage nothing is late and every window and session has
 * closed once the job has caught up: the views must equal the oracle exactly. The streaming runs
 * fire early panes every second, so that the sink is writing when the store goes away.
 */
@Tag("faults")
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ServingOutageIT {
  private static final Duration SHORT_OUTAGE = Duration.ofSeconds(30);
  private static final Duration LONG_OUTAGE = Duration.ofMinutes(3);
  private static final String LATENESS = "PT6H";

  private static ItStack it;

  @BeforeAll
  static void startStack() {
    it = ItStack.start("ServingOutageIT");
  }

  @AfterAll
  static void stopStack() {
    if (it != null) {
      it.stack.resumeServingDatabase();
      it.close();
    }
  }

  /**
   * An outage within the grace while records keep arriving: the job goes on (one WARN when the
   * outage starts, one when it ends), loses nothing and counts nothing twice; a stop asked for
   * afterwards (SIGTERM) is recorded as stopped.
   */
  @Test
  void servingDatabaseDownWithinTheGraceIsRiddenOutAndTheViewsEqualTheOracle() throws Exception {
    String topic = uniqueTopic("outage-short");
    kbOk(it.stack, "topics", "create", topic, "--partitions", "2");
    List<GeneratedRecord> records = workload(41, 2400);
    produce(topic, records.subList(0, 1600));
    File log = logFile("short");
    Process run = startKbProcess(streamingRun(topic, "so1"), log);
    try {
      Oracle.Result oracle = rideOutShortOutage(topic, "so1", records, run, log);
      // The job publishes its counters every tick: they reach the whole log and add up.
      await(
          "the published counters read all "
              + records.size()
              + " records and add up (read = accepted + dead-lettered + duplicates removed +"
              + " late)",
          Duration.ofSeconds(60),
          () -> settledOn(published("so1"), records.size()),
          run,
          log);
      VersionCounters.Snapshot c = published("so1");
      assertEquals(oracle.read(), c.get(CounterNames.READ), c.toString());
      assertEquals(0, c.get(CounterNames.LATE), "the outage made nothing late: " + c);
      assertEquals(oracle.accepted(), c.get(CounterNames.ACCEPTED), c.toString());
      assertEquals(oracle.duplicates(), c.get(CounterNames.DUPLICATES_REMOVED), c.toString());
      assertEquals(List.of(), it.kafka.readAll(topic + ".late"), "nothing on the late topic");

      String output = read(log);
      assertTrue(run.isAlive(), output);
      assertTrue(output.contains("unreachable"), "a WARN when the outage starts\n" + output);
      assertTrue(
          output.contains("reachable again after"), "a WARN when the outage ends\n" + output);
      assertTrue(
          output.contains("ViewStore - Serving store") && output.contains("unreachable"),
          "the sink met the outage (and rode it out)\n" + output);
      long starts = output.lines().filter(l -> l.contains("retrying with backoff")).count();
      assertTrue(
          starts >= 1 && starts <= 10,
          "one WARN per client and outage, not one per retry: " + starts + " lines");
    } finally {
      run.destroy(); // SIGTERM: a requested stop
      assertTrue(run.waitFor(60, TimeUnit.SECONDS), "kb did not stop on SIGTERM");
    }
    for (RegisteredVersion v : versions("so1")) {
      assertEquals(RegisteredVersion.STOPPED, v.jobState(), "a requested stop: " + v);
    }
  }

  /**
   * The same outage within the grace under a Flink job (an embedded MiniCluster in kb's JVM,
   * parallelism 2, checkpoints on): the sink's retries hold its task, the job goes on and its views
   * equal the oracle. A Flink job's counters reach kb only when it ends, which an open-ended run
   * does not, so the sums are checked from the outputs: the views (accepted events), nothing on
   * {@code .late}, every malformed record on {@code .dlq}.
   */
  @Test
  void servingDatabaseDownWithinTheGraceIsRiddenOutOnFlink() throws Exception {
    String topic = uniqueTopic("outage-flink");
    kbOk(it.stack, "topics", "create", topic, "--partitions", "2");
    List<GeneratedRecord> records = workload(44, 2400);
    produce(topic, records.subList(0, 1600));
    File log = logFile("flink");
    List<String> args = new ArrayList<>(streamingRun(topic, "sf1"));
    args.addAll(flink());
    Process run = startKbProcess(args, log);
    try {
      Oracle.Result oracle = rideOutShortOutage(topic, "sf1", records, run, log);
      assertEquals(List.of(), it.kafka.readAll(topic + ".late"), "nothing on the late topic");
      await(
          "every malformed record on the dead-letter topic",
          Duration.ofSeconds(60),
          () -> distinctSources(it.kafka.readAll(topic + ".dlq")) >= oracle.deadLettered(),
          run,
          log);
      assertEquals(oracle.deadLettered(), distinctSources(it.kafka.readAll(topic + ".dlq")));

      String output = read(log);
      assertTrue(run.isAlive(), output);
      assertTrue(
          output.contains("ViewStore - Serving store") && output.contains("unreachable"),
          "the sink met the outage (and rode it out)\n" + output);
      assertTrue(
          output.contains("reachable again after"), "a WARN when the outage ends\n" + output);
    } finally {
      run.destroy(); // SIGTERM: a requested stop
      assertTrue(run.waitFor(60, TimeUnit.SECONDS), "kb did not stop on SIGTERM");
    }
    for (RegisteredVersion v : versions("sf1")) {
      assertEquals(RegisteredVersion.STOPPED, v.jobState(), "a requested stop: " + v);
    }
  }

  /**
   * An outage beyond the grace: the run fails with exit 4, the registry says failed and why (the
   * store is back by the time kb records it), and {@code kb run --resume} rebuilds the version
   * exactly. The times: 3 min down against the default grace of 2 min.
   */
  @Test
  void servingDatabaseDownBeyondTheGraceFailsTheRunAndResumeRecoversExactly() throws Exception {
    beyondTheGrace("lo1", 42, List.of(), null, LONG_OUTAGE);
  }

  /**
   * The same under a Flink job: the sink's failure beyond the grace fails the job (no restart
   * loop), kb records it and exits 4, and a Flink {@code --resume} rebuilds the version exactly. A
   * grace of 20 s and 45 s down keep the case short; the decision is the same code as above.
   */
  @Test
  void servingDatabaseDownBeyondTheGraceFailsTheFlinkRunAndResumeRecoversExactly()
      throws Exception {
    beyondTheGrace("lf2", 45, flink(), Duration.ofSeconds(20), Duration.ofSeconds(45));
  }

  private static void beyondTheGrace(
      String version, long seed, List<String> runner, Duration grace, Duration outage)
      throws Exception {
    String topic = uniqueTopic("outage-long");
    kbOk(it.stack, "topics", "create", topic, "--partitions", "2");
    List<GeneratedRecord> records = workload(seed, 2000);
    produce(topic, records);
    File log = logFile("long-" + version);
    List<String> args = new ArrayList<>(streamingRun(topic, version));
    args.addAll(runner);
    if (grace != null) {
      args.addAll(List.of("--outage-grace", grace.toString()));
    }
    Process run = startKbProcess(args, log);
    try {
      awaitRead(topic, version, 200, run, log);
      it.stack.suspendServingDatabase();
      long down = System.nanoTime();
      // The grace is for running jobs: a run launched while the store is away fails at once.
      InProcessKb.Result refused =
          kb(it.stack, "run", "--mode", "historical", "--topic", topic, "--version", version + "x");
      assertEquals(3, refused.exitCode(), refused.describe());
      assertTrue(refused.elapsed().toSeconds() < 10, "fails fast: " + refused.elapsed());
      Thread.sleep(Math.max(0, outage.toMillis() - (System.nanoTime() - down) / 1_000_000));
      it.stack.resumeServingDatabase();
      assertTrue(run.waitFor(120, TimeUnit.SECONDS), "the run must end\n" + read(log));
    } finally {
      it.stack.resumeServingDatabase();
      if (run.isAlive()) {
        run.destroyForcibly();
      }
    }
    String output = read(log);
    assertEquals(4, run.exitValue(), "exit code\n" + output);
    Duration effective = grace == null ? Duration.ofMinutes(2) : grace;
    String seconds = String.format(Locale.ROOT, "%.1f s", effective.toMillis() / 1000.0);
    assertTrue(output.contains("beyond the outage grace of " + seconds), output);
    assertTrue(output.contains("--resume"), "says how to recover\n" + output);
    for (RegisteredVersion v : versions(version)) {
      assertEquals(RegisteredVersion.FAILED, v.jobState(), "failed, not stopped: " + v);
      assertNotNull(v.jobError(), v.toString());
      assertTrue(v.jobError().contains("beyond the outage grace"), v.jobError());
    }
    InProcessKb.Result status = kbOk(it.stack, "status", "--view", "activity_per_minute");
    assertTrue(status.out().contains("failed: "), "kb status shows the cause\n" + status.out());

    List<String> resume =
        new ArrayList<>(
            List.of(
                "run",
                "--mode",
                "streaming",
                "--drain-when-caught-up",
                "--topic",
                topic,
                "--version",
                version,
                "--resume",
                "--allowed-lateness",
                LATENESS,
                "--dedup-horizon",
                LATENESS,
                "--early-firing-interval",
                "PT1S"));
    resume.addAll(runner);
    InProcessKb.Result resumed = kb(it.stack, resume.toArray(new String[0]));
    assertEquals(0, resumed.exitCode(), resumed.describe());
    Oracle.Result oracle = Oracle.computeFromRecords(records, parameters());
    // A drained run ends, so its counters reach kb on Flink too.
    assertCounters(expectedCounters(oracle, 0, oracle.accepted()), resumed, "resumed " + version);
    for (ViewDefinition v : Views.all()) {
      assertRows(v, oracle.rows(v), "oracle", it.store.readAll(v, version), version);
    }
    assertEquals(List.of(), it.kafka.readAll(topic + ".late"), "nothing on the late topic");
    for (RegisteredVersion v : versions(version)) {
      assertEquals(RegisteredVersion.DONE, v.jobState(), v.toString());
      assertEquals(null, v.jobError(), "a new job clears the old cause: " + v);
    }
  }

  /**
   * A reprocess whose store goes away beyond the grace fails (exit 4, failed with the cause), and
   * running the same {@code kb reprocess} again resumes it: views equal the oracle after cutover.
   */
  @Test
  void aReprocessFailedByAnOutageIsResumedByRunningItAgain() throws Exception {
    reprocessThroughAnOutage("ro1", 43, List.of());
  }

  /** The same reprocess, failed and resumed, on Flink. */
  @Test
  void aFlinkReprocessFailedByAnOutageIsResumedByRunningItAgain() throws Exception {
    reprocessThroughAnOutage("rf1", 46, flink());
  }

  private static void reprocessThroughAnOutage(String version, long seed, List<String> runner)
      throws Exception {
    String topic = uniqueTopic("outage-reprocess");
    kbOk(it.stack, "topics", "create", topic, "--partitions", "2");
    List<GeneratedRecord> records = workload(seed, 1200);
    produce(topic, records);
    ViewDefinition view = Views.ACTIVITY_PER_MINUTE;
    List<String> reprocess =
        kbArgs(
            it.stack,
            "reprocess",
            "--view",
            view.name(),
            "--version",
            version,
            "--caught-up-for",
            "PT4S",
            "--exit-after-cutover");
    reprocess.addAll(runner);
    List<String> first = new ArrayList<>(reprocess);
    first.addAll(
        List.of(
            "--topic",
            topic,
            "--allowed-lateness",
            LATENESS,
            "--dedup-horizon",
            LATENESS,
            "--outage-grace",
            "PT5S"));
    File log = logFile("reprocess-" + version);
    Process run = startKbProcess(first, log);
    try {
      awaitRead(topic, version, 100, run, log);
      it.stack.suspendServingDatabase();
      Thread.sleep(12_000);
      it.stack.resumeServingDatabase();
      assertTrue(run.waitFor(60, TimeUnit.SECONDS), "the reprocess must end\n" + read(log));
    } finally {
      it.stack.resumeServingDatabase();
      if (run.isAlive()) {
        run.destroyForcibly();
      }
    }
    String output = read(log);
    assertEquals(4, run.exitValue(), "exit code\n" + output);
    assertTrue(output.contains("beyond the outage grace of 5.0 s"), output);
    try (ViewRegistry registry = new ViewRegistry(it.config)) {
      RegisteredVersion failed = registry.get(view.name(), version).orElseThrow();
      assertEquals(RegisteredVersion.FAILED, failed.jobState(), failed.toString());
      assertTrue(failed.jobError().contains("beyond the outage grace"), failed.jobError());
      assertEquals(RegisteredVersion.Status.BUILDING, failed.status(), "not live yet");
    }

    InProcessKb.Result resumed = InProcessKb.run(reprocess);
    assertEquals(0, resumed.exitCode(), resumed.describe());
    assertTrue(resumed.err().contains("resuming version " + version), resumed.describe());
    Oracle.Result oracle = Oracle.computeFromRecords(records, parameters());
    assertRows(view, oracle.rows(view), "oracle", it.store.readAll(view, version), version);
    try (ViewRegistry registry = new ViewRegistry(it.config)) {
      assertEquals(version, registry.live(view.name()).orElseThrow(), "cut over after the resume");
    }
  }

  /** A Flink job in kb's JVM ({@code [local]}); its checkpoints go under the stack's data dir. */
  private static List<String> flink() {
    return List.of(
        "--runner=FlinkRunner", "--flinkMaster=[local]", "--data-dir=" + it.stack.dataDir());
  }

  /** Two hours old, so every hour window and session has closed once the job caught up. */
  private static List<GeneratedRecord> workload(long seed, int count) {
    return WorkloadGenerator.seeded(seed)
        .withCount(count)
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
        .withEarlyFiringInterval(org.joda.time.Duration.standardSeconds(1))
        .withAllowedLateness(org.joda.time.Duration.standardHours(6))
        .withDedupHorizon(org.joda.time.Duration.standardHours(6));
  }

  private static List<String> streamingRun(String topic, String version) {
    return kbArgs(
        it.stack,
        "run",
        "--mode",
        "streaming",
        "--topic",
        topic,
        "--version",
        version,
        "--allowed-lateness",
        LATENESS,
        "--dedup-horizon",
        LATENESS,
        // Early panes every second: the sink writes throughout, so the outage meets it mid-run.
        "--early-firing-interval",
        "PT1S");
  }

  /**
   * Once {@code run} has read 200 records of the first 1,600 (already produced), takes the store
   * away for {@link #SHORT_OUTAGE} while the rest of {@code records} arrive, brings it back, and
   * waits until the version's views equal the oracle of all records.
   */
  private static Oracle.Result rideOutShortOutage(
      String topic, String version, List<GeneratedRecord> records, Process run, File log)
      throws Exception {
    awaitRead(topic, version, 200, run, log);
    it.stack.suspendServingDatabase();
    long down = System.nanoTime();
    // Data keeps arriving while the store is away.
    produce(topic, records.subList(1600, records.size()));
    Thread.sleep(Math.max(0, SHORT_OUTAGE.toMillis() - (System.nanoTime() - down) / 1_000_000));
    it.stack.resumeServingDatabase();
    assertTrue(run.isAlive(), "the run must survive an outage within the grace\n" + read(log));

    Oracle.Result oracle = Oracle.computeFromRecords(records, parameters());
    await(
        "the views equal the oracle",
        Duration.ofMinutes(3),
        () -> Views.all().stream().allMatch(v -> sameRows(v, oracle, version)),
        run,
        log);
    for (ViewDefinition v : Views.all()) {
      assertRows(v, oracle.rows(v), "oracle", it.store.readAll(v, version), version);
    }
    return oracle;
  }

  private static void produce(String topic, List<GeneratedRecord> records) {
    List<ProducerRecord<byte[], byte[]>> sends = new ArrayList<>();
    for (GeneratedRecord r : records) {
      sends.add(new ProducerRecord<>(topic, r.key(), r.value()));
    }
    it.kafka.produce(sends);
  }

  /** Waits until the run reported reading {@code atLeast} records (before the outage starts). */
  private static void awaitRead(String topic, String version, long atLeast, Process run, File log)
      throws InterruptedException {
    await(
        "the run read " + atLeast + " records",
        Duration.ofSeconds(90),
        () -> recordsRead(it.config, topic, version) >= atLeast,
        run,
        log);
  }

  private static boolean sameRows(ViewDefinition v, Oracle.Result oracle, String version) {
    try {
      return ViewDiff.compare(v, oracle.rows(v), it.store.readAll(v, version)).isEmpty();
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static VersionCounters.Snapshot published(String version) {
    try (VersionCounters counters = new VersionCounters(it.config)) {
      return counters.read(Views.ACTIVITY_PER_MINUTE.name(), version);
    }
  }

  private static List<RegisteredVersion> versions(String version) {
    try (ViewRegistry registry = new ViewRegistry(it.config)) {
      List<RegisteredVersion> out = new ArrayList<>();
      for (ViewDefinition v : Views.all()) {
        out.add(registry.get(v.name(), version).orElseThrow());
      }
      return out;
    }
  }

  private static void await(
      String what, Duration within, BooleanSupplier condition, Process run, File log)
      throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (!condition.getAsBoolean()) {
      if (!run.isAlive()) {
        fail("kb ended (exit " + run.exitValue() + ") before " + what + "\n" + read(log));
      }
      if (System.nanoTime() > deadline) {
        fail("timed out waiting until " + what + "\n" + read(log));
      }
      Thread.sleep(500);
    }
  }

  private static File logFile(String name) throws IOException {
    Path dir = Files.createDirectories(Path.of("target", "it-logs"));
    return dir.resolve("ServingOutageIT-" + name + "-" + System.currentTimeMillis() + ".log")
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
