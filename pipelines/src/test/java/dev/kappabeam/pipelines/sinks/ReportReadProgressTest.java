package dev.kappabeam.pipelines.sinks;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import dev.kappabeam.serving.ReadProgress;
import dev.kappabeam.serving.StoreConfig;
import dev.kappabeam.transforms.events.SourceRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollection;
import org.junit.Rule;
import org.junit.Test;

public class ReportReadProgressTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();

  private static StoreConfig freshH2() {
    return StoreConfig.of(
        "jdbc:h2:mem:kbrp_"
            + UUID.randomUUID().toString().replace("-", "")
            + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;DB_CLOSE_DELAY=-1",
        "sa",
        "");
  }

  private static List<SourceRecord> records() {
    List<SourceRecord> out = new ArrayList<>();
    for (long offset = 10; offset < 60; offset++) {
      out.add(new SourceRecord("events", 0, offset, null, new byte[] {1}));
    }
    for (long offset = 0; offset < 7; offset++) {
      out.add(new SourceRecord("events", 2, offset, null, new byte[] {1}));
    }
    out.add(SourceRecord.unknownSource(new byte[] {1})); // no coordinates: not reported
    return out;
  }

  @Test
  public void reportsOnePastTheHighestOffsetAndTheRecordsOfEachPartition() {
    StoreConfig store = freshH2();
    PCollection<SourceRecord> passed =
        p.apply(Create.of(records()).withCoder(SerializableCoder.of(SourceRecord.class)))
            .apply(new ReportReadProgress(store, "kappa-beam.events.v1", "run-a"));
    PAssert.that(passed).containsInAnyOrder(records()); // a pass-through: every record goes on
    p.run().waitUntilFinish();

    try (ReadProgress progress = new ReadProgress(store)) {
      Map<Integer, List<Long>> read = new TreeMap<>();
      progress
          .read("kappa-beam.events.v1", "events", "run-a")
          .forEach(
              (partition, pos) -> read.put(partition, List.of(pos.nextOffset(), pos.records())));
      assertEquals(Map.of(0, List.of(60L, 50L), 2, List.of(7L, 7L)), read);
    }
  }

  @Test
  public void anUnreachableStoreIsCountedAndDoesNotFailTheJob() {
    StoreConfig down = StoreConfig.of("jdbc:h2:tcp://127.0.0.1:1/nowhere", "sa", "");
    p.apply(Create.of(records()).withCoder(SerializableCoder.of(SourceRecord.class)))
        .apply(new ReportReadProgress(down, "g", "run-b"));
    PipelineResult result = p.run();

    assertEquals(PipelineResult.State.DONE, result.waitUntilFinish());
    long failures =
        result
            .metrics()
            .queryMetrics(
                MetricsFilter.builder()
                    .addNameFilter(
                        MetricNameFilter.named(
                            ReportReadProgress.class, "read_progress_write_failures"))
                    .build())
            .getCounters()
            .iterator()
            .next()
            .getCommitted();
    assertTrue("failures counted: " + failures, failures > 0);
  }
}
