package dev.kappabeam.runners.spark;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kappabeam.runners.testkit.ParityFixture;
import dev.kappabeam.transforms.CounterNames;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The parity fixture on Spark, embedded ({@code --sparkMaster=local[2]}), in historical mode (a
 * Spark batch job): a generated workload with out-of-order, late-within-lateness, duplicate and
 * malformed records on three partitions of a four-partition topic (the fourth stays empty) must
 * give views equal to the oracle row for row, and counters exactly the oracle's. Streaming on Spark
 * is refused ({@link SparkRunnerSupport}); {@link SparkStreamingLimitsIT} shows why.
 */
@Tag("matrix")
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class SparkParityIT {
  private static final List<String> LOCAL =
      List.of("--runner=SparkRunner", "--sparkMaster=local[2]");

  @TempDir static Path tempDir;

  private static ParityFixture fixture;

  @BeforeAll
  static void produceWorkload() throws Exception {
    fixture = ParityFixture.start(tempDir.resolve("stack"), "spark-parity", 2000);
  }

  @AfterAll
  static void stopStack() {
    if (fixture != null) {
      fixture.close();
    }
  }

  @Test
  void historicalRunOnSparkEqualsTheOracle() {
    PipelineResult result = fixture.run("h1", LOCAL, "--mode=HISTORICAL");
    fixture.assertCounters(result, "historical h1");
    fixture.assertViewsEqualOracle("h1");
    assertSparkReportsAttemptedCountersOnly(result);
  }

  /**
   * Beam's Spark runner reports metrics from Spark accumulators as attempted values only
   * (SparkPipelineResult: asAttemptedOnlyMetricResults): asking for committed values fails, so the
   * fixture compares attempted values (exact here: no task was retried).
   */
  private static void assertSparkReportsAttemptedCountersOnly(PipelineResult result) {
    List<MetricResult<Long>> counters = new java.util.ArrayList<>();
    result
        .metrics()
        .queryMetrics(MetricsFilter.builder().build())
        .getCounters()
        .forEach(
            c -> {
              if (CounterNames.NAMESPACE.equals(c.getName().getNamespace())) {
                counters.add(c);
              }
            });
    assertFalse(counters.isEmpty(), "Spark reports the pipeline's counters");
    assertThrows(UnsupportedOperationException.class, () -> counters.get(0).getCommitted());
  }
}
