package dev.kappabeam.cli;

import static dev.kappabeam.cli.EndToEndSupport.assertRows;
import static dev.kappabeam.cli.EndToEndSupport.kbArgs;
import static dev.kappabeam.cli.EndToEndSupport.uniqueTopic;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kappabeam.devstack.LocalStack;
import dev.kappabeam.generator.GeneratedRecord;
import dev.kappabeam.generator.Oracle;
import dev.kappabeam.generator.WorkloadGenerator;
import dev.kappabeam.serving.LambdaRegistry;
import dev.kappabeam.serving.RegisteredVersion.Status;
import dev.kappabeam.serving.ViewRegistry;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.Views;
import java.io.File;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.apache.beam.sdk.values.Row;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Kappa and Lambda go live by themselves on DirectRunner and on Flink ({@code [local]}): {@code kb
 * reprocess} cuts over, and {@code kb batch} then {@code kb speed} (open-ended), both on the case's
 * runner, rebase readers once the speed job has caught up (the shared {@code CatchUp} rule over
 * what the job reports reading), on a topic that goes quiet after the backlog and on one that keeps
 * receiving events; the result equals the oracle. A Flink reprocess whose controller is killed
 * mid-way resumes and cuts over.
 */
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class LiveCatchUpIT {
  private static final ViewDefinition VIEW = Views.ACTIVITY_PER_MINUTE;
  private static final int BACKLOG = 600;

  private static ItStack it;
  private static LocalStack stack;

  @BeforeAll
  static void startStack() {
    it = ItStack.start("LiveCatchUpIT");
    stack = it.stack;
  }

  @AfterAll
  static void stopStack() {
    if (it != null) {
      it.close();
    }
  }

  /**
   * Tag "matrix" (CI runs it): the default suite has the same live catch-up and cutover on
   * DirectRunner in kappa's ReprocessIT (the library) and cli's ReprocessIT (the command).
   */
  @Tag("matrix")
  @ParameterizedTest(name = "{0}, busy topic: {1}")
  @CsvSource({"direct, false", "direct, true"})
  void reprocessCutsOverByItselfAndEqualsTheOracle(String runner, boolean busy) throws Exception {
    reprocessCutsOverByItself(runner, busy);
  }

  /** The Flink rows (tag "matrix": scripts/test-matrix, CI). */
  @Tag("matrix")
  @ParameterizedTest(name = "{0}, busy topic: {1}")
  @CsvSource({"flink, false", "flink, true"})
  void reprocessOnFlinkCutsOverByItselfAndEqualsTheOracle(String runner, boolean busy)
      throws Exception {
    reprocessCutsOverByItself(runner, busy);
  }

  private void reprocessCutsOverByItself(String runner, boolean busy) throws Exception {
    String topic = uniqueTopic("live-rp-" + runner);
    Workload w = new Workload(topic, busy);
    w.produceBacklog();
    // Versions are per view, across topics: each case has its own names.
    String old = "rp_" + runner + (busy ? "_busy" : "_quiet") + "_1";
    String version = "rp_" + runner + (busy ? "_busy" : "_quiet") + "_2";
    kbOk("run", "--mode", "historical", "--topic", topic, "--version", old, "--views", VIEW.name());
    kbOk("cutover", "--view", VIEW.name(), "--version", old);

    w.startTrickle();
    AtomicInteger exit = new AtomicInteger(-1);
    Thread controller =
        background(
            exit,
            with(
                runnerArgs(runner),
                "reprocess",
                "--view",
                VIEW.name(),
                "--version",
                version,
                "--topic",
                topic,
                "--caught-up-for",
                "PT4S"));
    try (ViewRegistry registry = new ViewRegistry(it.config)) {
      await(
          version + " cut over by itself",
          240,
          () -> Optional.of(version).equals(registry.live(VIEW.name())),
          controller);
      assertTrue(controller.isAlive(), "the controller keeps running the live version's job");
      w.stopTrickle();
      await(
          version + " equals the oracle once the topic is quiet",
          180,
          () -> it.store.readAll(VIEW, version).equals(w.oracle()),
          controller);
      assertRows(VIEW, w.oracle(), "oracle", it.store.readAll(VIEW, version), version);
      // Readers get it through kb serve.
      try (ServedViews served = ServedViews.start(it.stack, version)) {
        served.assertLive(VIEW, version, w.oracle());
      }

      // A rollback retires the new version; its job stops itself.
      kbOk("rollback", "--view", VIEW.name());
      controller.join(TimeUnit.SECONDS.toMillis(90));
      assertFalse(controller.isAlive(), "the retired version's job stopped");
      assertEquals(0, exit.get());
      assertEquals(Status.RETIRED, registry.get(VIEW.name(), version).orElseThrow().status());
    } finally {
      w.stopTrickle();
      controller.interrupt();
    }
  }

  @ParameterizedTest(name = "{0}, busy topic: {1}")
  @CsvSource({"direct, false"})
  void openEndedSpeedGoesLiveByItselfAndTheMergedViewEqualsTheOracle(String runner, boolean busy)
      throws Exception {
    openEndedSpeedGoesLiveByItself(runner, busy);
  }

  /**
   * The Flink rows and Direct on a busy topic (tag "matrix": CI runs them; the default suite keeps
   * Direct on a quiet topic).
   */
  @Tag("matrix")
  @ParameterizedTest(name = "{0}, busy topic: {1}")
  @CsvSource({"flink, false", "flink, true", "direct, true"})
  void openEndedSpeedOnFlinkGoesLiveByItselfAndTheMergedViewEqualsTheOracle(
      String runner, boolean busy) throws Exception {
    openEndedSpeedGoesLiveByItself(runner, busy);
  }

  private void openEndedSpeedGoesLiveByItself(String runner, boolean busy) throws Exception {
    String topic = uniqueTopic("live-sp-" + runner);
    Workload w = new Workload(topic, busy);
    w.produceBacklog();
    // The batch view on the same runner as the speed layer: both Lambda layers on Flink in its
    // cases.
    kbOk(
        with(runnerArgs(runner), "batch", "--view", VIEW.name(), "--topic", topic)
            .toArray(String[]::new));
    w.produceMore(300);

    w.startTrickle();
    AtomicInteger exit = new AtomicInteger(-1);
    Thread speed =
        background(
            exit,
            with(runnerArgs(runner), "speed", "--view", VIEW.name(), "--caught-up-for", "PT4S"));
    try (LambdaRegistry lambda = new LambdaRegistry(it.config)) {
      LambdaRegistry.Cutoff cutoff = lambda.latestBatch(VIEW.name()).orElseThrow();
      await(
          "the open-ended speed layer rebased readers by itself",
          240,
          () ->
              lambda
                  .live(VIEW.name())
                  .map(l -> l.speedVersion().equals(cutoff.speedVersion()))
                  .orElse(false),
          speed);
      w.stopTrickle();
      await(
          "batch + speed equals the oracle once the topic is quiet",
          180,
          () -> lambda.read(it.store, VIEW).equals(w.oracle()),
          speed);
      assertRows(VIEW, w.oracle(), "oracle", lambda.read(it.store, VIEW), "batch + speed");
      try (ServedViews served = ServedViews.start(it.stack, "lambda-" + topic)) {
        served.assertLambda(VIEW, w.oracle());
      }

      // The next batch and speed retire this speed version: its job stops itself.
      kbOk("batch", "--view", VIEW.name());
      kbOk("speed", "--view", VIEW.name(), "--drain-when-caught-up");
      speed.join(TimeUnit.SECONDS.toMillis(90));
      assertFalse(speed.isAlive(), "the replaced speed job stopped");
      assertEquals(0, exit.get());
    } finally {
      w.stopTrickle();
      speed.interrupt();
    }
  }

  @Tag("matrix")
  @Test
  void flinkReprocessWhoseControllerIsKilledMidWayResumesAndCutsOver() throws Exception {
    String topic = uniqueTopic("live-kill");
    Workload w = new Workload(topic, false);
    w.produceBacklog();
    kbOk(
        "run",
        "--mode",
        "historical",
        "--topic",
        topic,
        "--version",
        "kill_1",
        "--views",
        VIEW.name());
    kbOk("cutover", "--view", VIEW.name(), "--version", "kill_1");

    // The first controller, in its own JVM, holds off the cutover long enough to be killed after
    // its Flink job has read and written but before it has caught up.
    File log = Files.createTempFile("live-kill-", ".log").toFile();
    Process first =
        EndToEndSupport.startKbProcess(
            withStack(
                runnerArgs("flink"),
                "reprocess",
                "--view",
                VIEW.name(),
                "--version",
                "kill_2",
                "--topic",
                topic,
                "--caught-up-for",
                "PT10M"),
            log);
    try (ViewRegistry registry = new ViewRegistry(it.config)) {
      try {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (!(it.store.tableExists(VIEW, "kill_2")
            && it.store.progress(VIEW, "kill_2").rows() > 0)) {
          if (System.nanoTime() > deadline || !first.isAlive()) {
            fail("kill_2 never got rows:\n" + Files.readString(log.toPath()));
          }
          Thread.sleep(250);
        }
        assertNull(registry.get(VIEW.name(), "kill_2").orElseThrow().caughtUpAt());
      } finally {
        first.destroyForcibly();
        first.waitFor(30, TimeUnit.SECONDS);
      }

      InProcessKb.Result resumed =
          InProcessKb.run(
              withStack(
                  runnerArgs("flink"),
                  "reprocess",
                  "--view",
                  VIEW.name(),
                  "--version",
                  "kill_2",
                  "--caught-up-for",
                  "PT4S",
                  "--stale-after",
                  "PT1S",
                  "--exit-after-cutover"));
      assertEquals(0, resumed.exitCode(), resumed.describe());
      assertTrue(resumed.err().contains("resuming version kill_2"), resumed.describe());
      assertTrue(resumed.err().contains("to read 0"), "live progress:\n" + resumed.describe());
      assertEquals(Optional.of("kill_2"), registry.live(VIEW.name()));
      assertRows(VIEW, w.oracle(), "oracle", it.store.readAll(VIEW, "kill_2"), "kill_2");
    }
  }

  /**
   * The same on a Flink session cluster (a MiniCluster with a REST endpoint, as {@code flink run}
   * talks to): the job runs in the cluster, not in kb's process, and still reports its reads.
   */
  @Tag("matrix")
  @Test
  void flinkSessionClusterReprocessCutsOverByItself() throws Exception {
    String topic = uniqueTopic("live-cluster");
    Workload w = new Workload(topic, false);
    w.produceBacklog();
    kbOk(
        "run",
        "--mode",
        "historical",
        "--topic",
        topic,
        "--version",
        "cl_1",
        "--views",
        VIEW.name());
    kbOk("cutover", "--view", VIEW.name(), "--version", "cl_1");

    Configuration conf = new Configuration();
    conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
    conf.set(RestOptions.BIND_PORT, "0");
    conf.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.parse("128m"));
    try (MiniCluster cluster =
        new MiniCluster(
            new MiniClusterConfiguration.Builder()
                .setConfiguration(conf)
                .setNumTaskManagers(1)
                .setNumSlotsPerTaskManager(2)
                .build())) {
      cluster.start();
      URI rest = cluster.getRestAddress().get(60, TimeUnit.SECONDS);
      // The job's classes are on this JVM's classpath, which the cluster's user-code class
      // loader falls back to; staging one empty jar keeps Beam from uploading the classpath.
      Path empty = Files.createTempFile("empty-", ".jar");
      try (JarOutputStream jar = new JarOutputStream(Files.newOutputStream(empty), manifest())) {
        jar.flush();
      }
      InProcessKb.Result r =
          InProcessKb.run(
              withStack(
                  List.of(
                      "--runner=FlinkRunner",
                      "--flinkMaster=" + rest.getHost() + ":" + rest.getPort(),
                      "--filesToStage=" + empty),
                  "reprocess",
                  "--view",
                  VIEW.name(),
                  "--version",
                  "cl_2",
                  "--topic",
                  topic,
                  "--caught-up-for",
                  "PT4S",
                  "--exit-after-cutover"));
      assertEquals(0, r.exitCode(), r.describe());
      assertTrue(r.err().contains("to read 0"), "live progress:\n" + r.describe());
      try (ViewRegistry registry = new ViewRegistry(it.config)) {
        assertEquals(Optional.of("cl_2"), registry.live(VIEW.name()));
      }
      assertRows(VIEW, w.oracle(), "oracle", it.store.readAll(VIEW, "cl_2"), "cl_2");
    }
  }

  private static Manifest manifest() {
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().putValue("Manifest-Version", "1.0");
    return manifest;
  }

  // ---------------------------------------------------------------------------------------------

  /** Runner flags as a user passes them to kb. */
  private static List<String> runnerArgs(String runner) {
    return switch (runner) {
      case "direct" -> List.of();
      case "flink" -> List.of("--runner=FlinkRunner", "--flinkMaster=[local]");
      default -> throw new IllegalArgumentException(runner);
    };
  }

  private static List<String> with(List<String> extra, String... args) {
    List<String> out = new ArrayList<>(List.of(args));
    out.addAll(extra);
    return out;
  }

  /** {@link #with}, plus the stack's endpoints and data directory. */
  private static List<String> withStack(List<String> extra, String... args) {
    List<String> all = kbArgs(stack, with(extra, args).toArray(new String[0]));
    all.add("--data-dir=" + stack.dataDir());
    return all;
  }

  private static void kbOk(String... args) {
    EndToEndSupport.kbOk(stack, args);
  }

  /** Runs kb on a thread of its own (kb blocks until its job stops), storing its exit code. */
  private static Thread background(AtomicInteger exit, List<String> args) {
    List<String> all = withStack(args);
    Thread t = new Thread(() -> exit.set(Kb.execute(all.toArray(new String[0]))), "kb-" + args);
    t.start();
    return t;
  }

  private static void await(String what, int seconds, BooleanSupplier condition, Thread job)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        fail("timed out after " + seconds + " s waiting until " + what);
      }
      if (!job.isAlive()) {
        fail("the kb process ended before " + what);
      }
      Thread.sleep(250);
    }
  }

  /**
   * The events of one test: a backlog, then optionally a trickle that keeps the topic busy while
   * the job catches up. Event times are recent and in order, so nothing is late whenever the
   * watermark moves on an idle partition.
   */
  private static final class Workload {
    private final String topic;
    private final boolean busy;
    private final List<GeneratedRecord> records;
    private final List<byte[]> produced = Collections.synchronizedList(new ArrayList<>());
    private final AtomicBoolean stop = new AtomicBoolean();
    private int next;
    private Thread trickle;

    Workload(String topic, boolean busy) {
      this.topic = topic;
      this.busy = busy;
      EndToEndSupport.kbOk(stack, "topics", "create", topic, "--partitions", "3");
      this.records =
          WorkloadGenerator.seeded(topic.hashCode())
              .withCount(20_000)
              .withStart(Instant.now().minus(2, ChronoUnit.MINUTES))
              .withEventsPerSecond(50)
              .withOutOfOrderFraction(0.0)
              .withLateFraction(0.0)
              .withTooLateFraction(0.0)
              .withDuplicateFraction(0.02)
              .withMalformedFraction(0.02)
              .generate();
    }

    void produceBacklog() {
      produceMore(BACKLOG);
    }

    void produceMore(int count) {
      List<ProducerRecord<byte[], byte[]>> sends = new ArrayList<>();
      for (GeneratedRecord r : records.subList(next, next + count)) {
        sends.add(new ProducerRecord<>(topic, r.key(), r.value()));
        produced.add(r.value());
      }
      next += count;
      it.kafka.produce(sends);
    }

    /** 20 records every 200 ms until stopped, when the workload is busy. */
    void startTrickle() {
      if (!busy) {
        return;
      }
      trickle =
          new Thread(
              () -> {
                while (!stop.get() && next + 20 <= records.size()) {
                  produceMore(20);
                  try {
                    Thread.sleep(200);
                  } catch (InterruptedException e) {
                    return;
                  }
                }
              },
              "trickle-" + topic);
      trickle.start();
    }

    void stopTrickle() throws InterruptedException {
      stop.set(true);
      if (trickle != null) {
        trickle.join();
      }
    }

    List<Row> oracle() {
      return Oracle.compute(new ArrayList<>(produced), ViewParameters.defaults()).rows(VIEW);
    }
  }
}
