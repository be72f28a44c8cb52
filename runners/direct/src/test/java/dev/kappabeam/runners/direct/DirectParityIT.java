package dev.kappabeam.runners.direct;

import dev.kappabeam.runners.testkit.ParityFixture;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.PipelineResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The DirectRunner row of the parity matrix: the shared fixture (out-of-order,
 * late-within-lateness, duplicate and malformed records on three partitions of four, one empty)
 * built by a historical run and by a drained streaming run; both must equal the oracle row for row
 * with exact counters. The DirectRunner's immutability and encodability checks stay on (its
 * defaults), so a transform that mutates its input or has a coder that does not round-trip fails
 * here.
 */
@Tag("matrix")
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class DirectParityIT {
  private static final List<String> DIRECT = List.of("--runner=DirectRunner");

  @TempDir static Path tempDir;

  private static ParityFixture fixture;

  @BeforeAll
  static void produceWorkload() throws Exception {
    fixture = ParityFixture.start(tempDir.resolve("stack"), "direct-parity", 2000);
  }

  @AfterAll
  static void stopStack() {
    if (fixture != null) {
      fixture.close();
    }
  }

  @Test
  void historicalRunOnDirectEqualsTheOracle() {
    PipelineResult result = fixture.run("h1", DIRECT, "--mode=HISTORICAL");
    fixture.assertCounters(result, "historical h1");
    fixture.assertViewsEqualOracle("h1");
  }

  @Test
  void drainedStreamingRunOnDirectEqualsTheOracle() {
    // One worker thread comes from DirectRunnerSupport's defaults (see runners/direct/README.md).
    PipelineResult result =
        fixture.run("s1", DIRECT, "--mode=STREAMING", "--drainWhenCaughtUp=true");
    fixture.assertCounters(result, "drained streaming s1");
    fixture.assertViewsEqualOracle("s1");
  }
}
