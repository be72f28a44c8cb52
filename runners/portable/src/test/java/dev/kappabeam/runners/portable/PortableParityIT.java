package dev.kappabeam.runners.portable;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.runners.testkit.ParityFixture;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.beam.runners.flink.FlinkJobServerDriver;
import org.apache.beam.sdk.PipelineResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The portable row of the parity matrix: the pipeline goes through Beam's {@code PortableRunner} as
 * Runner API protos to a Flink job server (started here on free ports, executing on an embedded
 * Flink cluster), and its transforms run in a Java SDK harness reached over the Fn API (LOOPBACK
 * environment, the module's default). The historical and the drained streaming run of the shared
 * fixture must equal the oracle row for row, with exact counters (which come back through the job
 * service's metrics).
 */
@Tag("matrix")
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class PortableParityIT {
  @TempDir static Path tempDir;

  private static FlinkJobServerDriver jobServer;
  private static List<String> portable;
  private static ParityFixture fixture;

  @BeforeAll
  static void startJobServerAndProduceWorkload() throws Exception {
    jobServer =
        FlinkJobServerDriver.fromParams(
            new String[] {
              "--job-port=0", "--artifact-port=0", "--expansion-port=0", "--flink-master=[local]"
            });
    String endpoint = jobServer.start();
    assertTrue(endpoint.matches(".+:\\d+"), "job server endpoint: " + endpoint);
    portable = List.of("--runner=PortableRunner", "--jobEndpoint=" + endpoint, "--parallelism=2");
    fixture = ParityFixture.start(tempDir.resolve("stack"), "portable-parity", 2000);
  }

  @AfterAll
  static void stopAll() {
    try {
      if (fixture != null) {
        fixture.close();
      }
    } finally {
      if (jobServer != null) {
        jobServer.stop();
      }
    }
  }

  @Test
  void historicalRunThroughTheFlinkJobServerEqualsTheOracle() {
    PipelineResult result = fixture.run("h1", portable, "--mode=HISTORICAL");
    fixture.assertCounters(result, "portable historical h1");
    fixture.assertViewsEqualOracle("h1");
  }

  @Test
  void drainedStreamingRunThroughTheFlinkJobServerEqualsTheOracle() {
    PipelineResult result =
        fixture.run("s1", portable, "--mode=STREAMING", "--drainWhenCaughtUp=true");
    fixture.assertCounters(result, "portable drained streaming s1");
    fixture.assertViewsEqualOracle("s1");
  }
}
