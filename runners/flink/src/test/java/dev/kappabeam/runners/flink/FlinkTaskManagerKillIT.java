package dev.kappabeam.runners.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.pipelines.RunCounters;
import dev.kappabeam.runners.testkit.ParityFixture;
import dev.kappabeam.transforms.CounterNames;
import dev.kappabeam.transforms.views.Views;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.PipelineResult;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.runtime.client.JobStatusMessage;
import org.apache.flink.runtime.execution.ExecutionState;
import org.apache.flink.runtime.rest.messages.checkpoints.CheckpointingStatistics;
import org.apache.flink.runtime.rest.messages.job.JobDetailsInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A drained streaming replay on a Flink session cluster survives a {@code kill -9} of its
 * TaskManager: Flink restarts the job from the last completed checkpoint on a new TaskManager, and
 * the version's views equal the oracle row for row (what the killed attempt wrote after that
 * checkpoint is written again through the idempotent sink, never counted twice).
 *
 * <p>The JobManager and the TaskManagers are processes of their own ({@link
 * FlinkSessionProcesses}); the job is the shaded jar, submitted as {@code flink run} would, with
 * unaligned checkpoints every 2 s to local disk and a fixed-delay restart (1 s). Once the job has
 * completed a checkpoint, the test kills the TaskManager's JVM with SIGKILL and starts a new one.
 * The times to recover are logged (the README's fault matrix quotes them).
 */
@Tag("faults")
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class FlinkTaskManagerKillIT {
  private static final Logger LOG = LoggerFactory.getLogger(FlinkTaskManagerKillIT.class);

  /** Set by the failsafe configuration: target/kappa-beam-runner-flink-VERSION-shaded.jar. */
  private static final String SHADED_JAR_PROPERTY = "kb.flink.shadedJar";

  private static final int RECORDS = 360_000;

  @TempDir static Path tempDir;

  private static FlinkSessionProcesses flink;
  private static ParityFixture fixture;

  @BeforeAll
  static void startClusterAndProduceWorkload() throws Exception {
    Path jar = Path.of(System.getProperty(SHADED_JAR_PROPERTY, ""));
    assertTrue(
        Files.isRegularFile(jar),
        "-D" + SHADED_JAR_PROPERTY + " must name the shaded jar (run `mvn verify`), got " + jar);
    // Under target/, so that the processes' logs outlive a failed run.
    flink = FlinkSessionProcesses.start(Path.of("target", "flink-task-manager-kill"), 2);
    flink.startTaskManager();
    fixture = ParityFixture.start(tempDir.resolve("stack"), "flink-tm-kill", RECORDS);
  }

  @AfterAll
  static void stopAll() {
    try {
      if (fixture != null) {
        fixture.close();
      }
    } finally {
      if (flink != null) {
        flink.close();
      }
    }
  }

  @Test
  void killedTaskManagerMidReplayRestartsFromTheLastCheckpointWithoutDoubleCounting()
      throws Exception {
    Path jar = Path.of(System.getProperty(SHADED_JAR_PROPERTY));
    List<String> flags =
        List.of(
            "--runner=FlinkRunner",
            "--flinkMaster=" + flink.flinkMaster(),
            "--parallelism=2",
            "--filesToStage=" + jar.toAbsolutePath(),
            "--checkpointingInterval=2000",
            // Aligned barriers queue behind the replay's backpressured buffers: the first
            // checkpoint then completed only seconds before the replay's end.
            "--unalignedCheckpointEnabled=true",
            // With checkpoints on, Beam keeps finished sources alive unless told otherwise, and a
            // drained run would never end; Flink 1.19 checkpoints on after tasks finish.
            "--shutdownSourcesAfterIdleMs=0",
            "--numberOfExecutionRetries=3",
            "--executionRetryDelay=1000",
            "--stateBackend=filesystem",
            "--stateBackendStoragePath=" + tempDir.resolve("checkpoints").toUri());
    CompletableFuture<PipelineResult> run =
        CompletableFuture.supplyAsync(
            () -> fixture.run("k1", flags, "--mode=STREAMING", "--drainWhenCaughtUp=true"));
    JobID job = awaitRunningJob(run);

    Instant started = Instant.now();
    Instant deadline = started.plus(Duration.ofMinutes(2));
    long checkpoints = 0;
    boolean rows = false;
    // The kill comes right after the first completed checkpoint: with the replay as fast as it is
    // now (a drained 360,000-record replay reads for ~10 s), waiting for rows as well, which the
    // drained read's watermark may only release near the end, let the job finish first.
    while (checkpoints < 1) {
      JobStatus status = flink.client().getJobStatus(job).get(30, TimeUnit.SECONDS);
      assertTrue(
          status == JobStatus.RUNNING && Instant.now().isBefore(deadline),
          String.format(
              "after %s the job is %s with %d completed checkpoint(s) and %s rows; the kill must"
                  + " come after a checkpoint, before the end (see %s)",
              Duration.between(started, Instant.now()),
              status,
              checkpoints,
              rows ? "some" : "no",
              flink.log("jobmanager")));
      checkpoints = flink.checkpoints(job).getCounts().getNumberCompletedCheckpoints();
      rows = !fixture.store().readAll(Views.all().get(0), "k1").isEmpty();
      Thread.sleep(100);
    }
    long lastBeforeKill =
        flink.checkpoints(job).getLatestCheckpoints().getCompletedCheckpointStatistics().getId();
    Instant killed = Instant.now();
    flink.killTaskManager(0);
    // A supervisor (systemd, Kubernetes) would start a new one; the job waits for its slots.
    flink.startTaskManager();
    Instant replaced = Instant.now();

    Instant running = awaitRunningAgain(job, killed);
    PipelineResult result = run.get(3, TimeUnit.MINUTES);
    Instant finished = Instant.now();

    JobDetailsInfo details = flink.client().getJobDetails(job).get(30, TimeUnit.SECONDS);
    CheckpointingStatistics.RestoredCheckpointStatistics restored =
        flink.checkpoints(job).getLatestCheckpoints().getRestoredCheckpointStatistics();
    assertTrue(restored != null, "the job restored no checkpoint after the kill");
    // The latest completed checkpoint: the one seen before the kill or one completed right after.
    assertTrue(
        restored.getId() >= lastBeforeKill,
        "restored checkpoint "
            + restored.getId()
            + ", completed before the kill "
            + lastBeforeKill);
    LOG.info(
        "TaskManager killed mid-replay: JobManager noticed after {} ms, new TaskManager registered"
            + " after {} ms, checkpoint {} restored, every task running again after {} ms, job"
            + " finished after {} ms",
        details.getTimestamps().get(JobStatus.RESTARTING) - killed.toEpochMilli(),
        Duration.between(killed, replaced).toMillis(),
        restored.getId(),
        Duration.between(killed, running).toMillis(),
        Duration.between(killed, finished).toMillis());

    fixture.assertViewsEqualOracle("k1");
    assertEquals(0, fixture.lateRecords(), "nothing found late on " + fixture.topic() + ".late");
    List<String> deadLetters = fixture.deadLetterSources();
    assertEquals(
        fixture.expected().deadLettered(),
        new HashSet<>(deadLetters).size(),
        "every dead letter on " + fixture.topic() + ".dlq, once or again after the restart");
    assertCountersOfTheRestoredAttemptAddUp(RunCounters.of(result, true));
  }

  /**
   * The job's counters after a restart are those of its last attempt only: Beam's Flink runner
   * keeps metrics in a Flink accumulator, and Flink reports a job's accumulators from the current
   * attempt of each task; the killed attempt's counts are gone. They cover what was read after the
   * restored checkpoint: not nothing, and at most the whole range, which they are when that
   * checkpoint was taken before the source had read a record (the kill follows the first completed
   * checkpoint; CI saw read = all with nothing in flight). That the job restored a checkpoint
   * rather than starting over is checked on Flink's checkpoint statistics above. Read, parse and
   * the dead-letter split run in one task, so read = parsed + dead-lettered. De-duplication and the
   * late split run in other tasks, which also process the records that were in flight between the
   * tasks at the (unaligned) checkpoint and are restored from it, read and parsed by the killed
   * attempt: so accepted + duplicates removed + late is at least parsed, and the excess is that
   * in-flight data.
   */
  private static void assertCountersOfTheRestoredAttemptAddUp(Map<String, Long> c) {
    String counters = "counters " + c + ", oracle " + fixture.expected();
    long read = c.get(CounterNames.READ);
    long parsed = c.get(CounterNames.PARSED);
    assertEquals(read, parsed + c.get(CounterNames.DEAD_LETTERED), counters);
    assertEquals(0L, c.get(CounterNames.LATE), counters);
    long downstream =
        c.get(CounterNames.ACCEPTED)
            + c.get(CounterNames.DUPLICATES_REMOVED)
            + c.get(CounterNames.LATE);
    assertTrue(downstream >= parsed, counters);
    assertTrue(read > 0 && read <= fixture.expected().read(), counters);
    LOG.info(
        "counters of the restarted attempt: {} (restored in flight: {})", c, downstream - parsed);
  }

  /** The one job the cluster runs, once it is RUNNING; fails if the run ends first. */
  private static JobID awaitRunningJob(CompletableFuture<PipelineResult> run) throws Exception {
    Instant deadline = Instant.now().plus(Duration.ofMinutes(2));
    while (Instant.now().isBefore(deadline)) {
      if (run.isDone()) {
        run.get();
        throw new AssertionError("the run ended before its job was seen running");
      }
      for (JobStatusMessage j : flink.client().listJobs().get(30, TimeUnit.SECONDS)) {
        if (j.getJobState() == JobStatus.RUNNING) {
          return j.getJobId();
        }
      }
      Thread.sleep(100);
    }
    throw new AssertionError("no running job on the cluster within 2 minutes");
  }

  /**
   * When the job, restarted after {@code killed}, runs again with all its tasks deployed (each
   * RUNNING or already FINISHED).
   */
  private static Instant awaitRunningAgain(JobID job, Instant killed) throws Exception {
    Instant deadline = Instant.now().plus(Duration.ofMinutes(2));
    while (Instant.now().isBefore(deadline)) {
      JobDetailsInfo details = flink.client().getJobDetails(job).get(30, TimeUnit.SECONDS);
      Long restarting = details.getTimestamps().get(JobStatus.RESTARTING);
      boolean restarted = restarting != null && restarting >= killed.toEpochMilli();
      int pending = 0;
      for (Map.Entry<ExecutionState, Integer> e : details.getJobVerticesPerState().entrySet()) {
        if (e.getKey() != ExecutionState.RUNNING && e.getKey() != ExecutionState.FINISHED) {
          pending += e.getValue();
        }
      }
      if (restarted
          && (details.getJobStatus() == JobStatus.RUNNING && pending == 0
              || details.getJobStatus().isGloballyTerminalState())) {
        return Instant.now();
      }
      assertTrue(
          restarted || !details.getJobStatus().isGloballyTerminalState(),
          "the job ended " + details.getJobStatus() + " without a restart: the kill came too late");
      Thread.sleep(100);
    }
    throw new AssertionError(job + " did not run again within 2 minutes of the kill");
  }
}
