package dev.kappabeam.runners.flink;

import dev.kappabeam.runners.testkit.ParityFixture;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.PipelineResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The parity fixture on Flink's embedded MiniCluster ({@code --flinkMaster=[local]}, parallelism
 * 2), attached (Beam's default: {@code run()} returns when the job is done, with its metrics): a
 * generated workload with out-of-order, late-within-lateness, duplicate and malformed records on
 * three partitions of a four-partition topic (the fourth stays empty) is built into one view
 * version by a historical run and into another by a drained streaming run; both must equal the
 * oracle row for row, for every view, and the counters must be exactly the oracle's.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class FlinkParityIT {
  private static final List<String> LOCAL =
      List.of("--runner=FlinkRunner", "--flinkMaster=[local]", "--parallelism=2");

  @TempDir static Path tempDir;

  private static ParityFixture fixture;

  @BeforeAll
  static void produceWorkload() throws Exception {
    fixture = ParityFixture.start(tempDir.resolve("stack"), "flink-parity", 2000);
  }

  @AfterAll
  static void stopStack() {
    if (fixture != null) {
      fixture.close();
    }
  }

  @Test
  void historicalRunOnFlinkEqualsTheOracle() {
    PipelineResult result = fixture.run("h1", LOCAL, "--mode=HISTORICAL");
    fixture.assertCounters(result, "historical h1");
    fixture.assertViewsEqualOracle("h1");
  }

  /** Streaming semantics (watermarks, lateness, dedup horizon) over the log, then drained. */
  @Test
  void drainedStreamingRunOnFlinkEqualsTheOracle() {
    PipelineResult result =
        fixture.run("s1", LOCAL, "--mode=STREAMING", "--drainWhenCaughtUp=true");
    fixture.assertCounters(result, "drained streaming s1");
    fixture.assertViewsEqualOracle("s1");
  }
}
