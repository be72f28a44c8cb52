package dev.kappabeam.runners.flink;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.runners.testkit.ParityFixture;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.PipelineResult;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shaded jar as a Flink cluster runs it: a session cluster (one TaskManager, two slots, REST
 * endpoint) receives the jar the way {@code flink run} sends it, and runs each job in its own
 * child-first user-code class loader. Two jobs on the same TaskManager, historical then drained
 * streaming, must each equal the oracle: the second job is the one that catches per-JVM state tied
 * to the first job's class loader (JDBC's {@code DriverManager}, for one).
 *
 * <p>Slow (a session cluster and two jobs with jar staging), so it runs only with {@code
 * -Pflink-it}; it needs the shaded jar, which {@code package} builds before failsafe runs.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class FlinkClusterIT {
  /** Set by the failsafe configuration: target/kappa-beam-runner-flink-VERSION-shaded.jar. */
  private static final String SHADED_JAR_PROPERTY = "kb.flink.shadedJar";

  @TempDir static Path tempDir;

  private static ParityFixture fixture;
  private static MiniCluster cluster;
  private static List<String> remote;

  @BeforeAll
  static void startClusterAndProduceWorkload() throws Exception {
    Path jar = Path.of(System.getProperty(SHADED_JAR_PROPERTY, ""));
    assertTrue(
        Files.isRegularFile(jar),
        "-D" + SHADED_JAR_PROPERTY + " must name the shaded jar (run `mvn verify`), got " + jar);
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
    remote =
        List.of(
            "--runner=FlinkRunner",
            "--flinkMaster=127.0.0.1:" + rest.getPort(),
            "--parallelism=2",
            "--filesToStage=" + jar.toAbsolutePath());
    fixture = ParityFixture.start(tempDir.resolve("stack"), "flink-cluster", 2000);
  }

  @AfterAll
  static void stopAll() throws Exception {
    try {
      if (fixture != null) {
        fixture.close();
      }
    } finally {
      if (cluster != null) {
        cluster.close();
      }
    }
  }

  @Test
  void historicalThenDrainedStreamingJobOnOneTaskManagerEqualTheOracle() {
    PipelineResult historical = fixture.run("c1", remote, "--mode=HISTORICAL");
    fixture.assertCounters(historical, "historical c1 (first job)");
    fixture.assertViewsEqualOracle("c1");

    PipelineResult streaming =
        fixture.run("c2", remote, "--mode=STREAMING", "--drainWhenCaughtUp=true");
    fixture.assertCounters(streaming, "drained streaming c2 (second job, same TaskManager)");
    fixture.assertViewsEqualOracle("c2");
  }
}
