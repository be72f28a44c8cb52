package dev.kappabeam.runners.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.kappabeam.pipelines.RunPlan;
import dev.kappabeam.pipelines.kafka.KafkaOffsets;
import dev.kappabeam.runners.testkit.ParityFixture;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Collectors;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.client.deployment.StandaloneClusterId;
import org.apache.flink.client.program.rest.RestClusterClient;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.client.JobStatusMessage;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * An open-ended streaming version on Flink, stopped and restarted, neither loses nor double counts.
 *
 * <p>A session cluster (embedded, with its REST endpoint) runs the streaming job with checkpointing
 * on. It reads the first half of the parity workload; the test waits until a completed checkpoint
 * has committed the consumer group's offsets (KafkaIO commits in {@code finalizeCheckpoint}, which
 * Flink calls when a checkpoint completes, i.e. after every operator, the sink included, has
 * flushed and snapshotted), then stops the job with a savepoint ({@code flink stop}). The second
 * half is produced while no job runs. A new job of the same version restores the savepoint (window
 * panes, de-duplication and late-split state, and the source's offsets and watermarks), reads the
 * rest, and is stopped with {@code --drain} (end of event time: every window fires its final pane).
 * The version's views must equal the oracle of the whole workload row for row: duplicates whose
 * copies straddle the restart are removed once, windows and sessions open at the stop are
 * completed, nothing is read twice into a count.
 */
@Tag("matrix")
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class FlinkRestartIT {
  private static final int RECORDS = 2000;
  private static final int FIRST_PART = 1000;

  @TempDir static Path tempDir;

  private static MiniCluster cluster;
  private static RestClusterClient<StandaloneClusterId> client;
  private static ParityFixture fixture;
  private static List<String> flags;

  @BeforeAll
  static void startClusterAndProduceFirstPart() throws Exception {
    Configuration conf = new Configuration();
    conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
    conf.set(RestOptions.BIND_PORT, "0");
    conf.set(TaskManagerOptions.MANAGED_MEMORY_SIZE, MemorySize.parse("128m"));
    cluster =
        new MiniCluster(
            new MiniClusterConfiguration.Builder()
                .setConfiguration(conf)
                .setNumTaskManagers(1)
                .setNumSlotsPerTaskManager(2)
                .build());
    cluster.start();
    URI rest = cluster.getRestAddress().get(60, TimeUnit.SECONDS);
    Configuration clientConf = new Configuration();
    clientConf.set(RestOptions.ADDRESS, rest.getHost());
    clientConf.set(RestOptions.PORT, rest.getPort());
    client = new RestClusterClient<>(clientConf, StandaloneClusterId.getInstance());
    flags =
        List.of(
            "--runner=FlinkRunner",
            "--flinkMaster=" + rest.getHost() + ":" + rest.getPort(),
            "--parallelism=2",
            // The job's classes are on this JVM's classpath, which the embedded cluster's
            // user-code class loader falls back to; staging one empty jar keeps Beam from
            // uploading the whole test classpath.
            "--filesToStage=" + emptyJar(tempDir.resolve("empty.jar")),
            "--attachedMode=false",
            "--checkpointingInterval=500");
    // Recent event times: the job advances a caught-up partition's watermark to processing time,
    // so an old workload's second part would be (rightly) late after the pause.
    fixture =
        ParityFixture.start(
            tempDir.resolve("stack"),
            "flink-restart",
            RECORDS,
            FIRST_PART,
            Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MINUTES));
  }

  @AfterAll
  static void stopAll() throws Exception {
    try {
      if (fixture != null) {
        fixture.close();
      }
    } finally {
      if (client != null) {
        client.close();
      }
      if (cluster != null) {
        cluster.close();
      }
    }
  }

  @Test
  void stopWithSavepointAndRestoreNeitherLosesNorDoubleCounts() throws Exception {
    RunPlan first = fixture.plan("r1", flags, "--mode=STREAMING", "--startFrom=earliest");
    first.pipeline().run();
    JobID job1 = awaitRunningJob(Set.of());
    LongSupplier committed = () -> committedRecords(first.consumerGroup());
    awaitAtLeast(committed, FIRST_PART, "offsets of the first part committed on checkpoint");
    assertEquals(FIRST_PART, committed.getAsLong(), "committed offsets never pass what was read");
    String savepoint =
        client
            .stopWithSavepoint(
                job1,
                false,
                tempDir.resolve("savepoints").toUri().toString(),
                SavepointFormatType.CANONICAL)
            .get(2, TimeUnit.MINUTES);
    awaitState(job1, JobStatus.FINISHED);

    fixture.produceRemaining();
    List<String> restore = new ArrayList<>(flags);
    restore.add("--savepointPath=" + savepoint);
    RunPlan second = fixture.plan("r1", restore, "--mode=STREAMING", "--startFrom=earliest");
    second.pipeline().run();
    JobID job2 = awaitRunningJob(Set.of(job1));
    assertNotEquals(job1, job2);
    awaitAtLeast(committed, RECORDS, "offsets of the whole topic committed after the restore");
    client
        .stopWithSavepoint(
            job2,
            true,
            tempDir.resolve("savepoints").toUri().toString(),
            SavepointFormatType.CANONICAL)
        .get(2, TimeUnit.MINUTES);
    awaitState(job2, JobStatus.FINISHED);

    fixture.assertViewsEqualOracle("r1");
    assertEquals(0, fixture.lateRecords(), "nothing found late on " + fixture.topic() + ".late");
  }

  private static long committedRecords(String group) {
    try (KafkaOffsets kafka = new KafkaOffsets(fixture.stack().bootstrapServers())) {
      List<TopicPartition> partitions = kafka.partitions(fixture.topic());
      return kafka.committed(group, partitions).values().stream().mapToLong(Long::longValue).sum();
    }
  }

  private static JobID awaitRunningJob(Set<JobID> except) throws Exception {
    Instant deadline = Instant.now().plus(Duration.ofMinutes(2));
    while (Instant.now().isBefore(deadline)) {
      List<JobID> running =
          client.listJobs().get(30, TimeUnit.SECONDS).stream()
              .filter(j -> j.getJobState() == JobStatus.RUNNING)
              .map(JobStatusMessage::getJobId)
              .filter(id -> !except.contains(id))
              .collect(Collectors.toList());
      if (running.size() == 1) {
        return running.get(0);
      }
      Thread.sleep(200);
    }
    throw new AssertionError("no new running job on the cluster within 2 minutes");
  }

  private static void awaitState(JobID job, JobStatus want) throws Exception {
    Instant deadline = Instant.now().plus(Duration.ofMinutes(2));
    JobStatus state = null;
    while (Instant.now().isBefore(deadline)) {
      state = client.getJobStatus(job).get(30, TimeUnit.SECONDS);
      if (state == want) {
        return;
      }
      Thread.sleep(200);
    }
    throw new AssertionError(job + " is " + state + ", expected " + want);
  }

  private static void awaitAtLeast(LongSupplier value, long want, String what)
      throws InterruptedException {
    Instant deadline = Instant.now().plus(Duration.ofMinutes(3));
    long got = value.getAsLong();
    while (got < want && Instant.now().isBefore(deadline)) {
      Thread.sleep(250);
      got = value.getAsLong();
    }
    assertEquals(want, got, what);
  }

  private static String emptyJar(Path path) throws IOException {
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().putValue("Manifest-Version", "1.0");
    try (OutputStream out = Files.newOutputStream(path);
        JarOutputStream jar = new JarOutputStream(out, manifest)) {
      jar.flush();
    }
    return path.toString();
  }
}
