package dev.kappabeam.transforms.views;

import static dev.kappabeam.transforms.TestRecords.T0;
import static dev.kappabeam.transforms.TestRecords.at;
import static dev.kappabeam.transforms.TestRecords.event;
import static dev.kappabeam.transforms.TestRecords.itemRevenue;
import static dev.kappabeam.transforms.TestRecords.purchase;
import static org.junit.Assert.assertEquals;

import dev.kappabeam.transforms.CounterNames;
import dev.kappabeam.transforms.PipelineCounters;
import dev.kappabeam.transforms.ReferenceViews;
import dev.kappabeam.transforms.events.SourceRecord;
import java.util.List;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.windowing.IntervalWindow;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Duration;
import org.joda.time.Instant;
import org.junit.Rule;
import org.junit.Test;

/** {@code item_revenue_hourly} on a replayed stream: every kind of timing. */
public class ItemRevenueHourlyTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();

  private static final Instant H10 = T0;
  private static final Instant H11 = T0.plus(Duration.standardHours(1));

  private static IntervalWindow hour(Instant start) {
    return new IntervalWindow(start, start.plus(Duration.standardHours(1)));
  }

  private PCollection<Row> rows(TestStream<SourceRecord> stream, ViewParameters params) {
    PCollectionTuple out =
        p.apply(stream)
            .apply(ReferenceViews.of(params).withViews(List.of(Views.ITEM_REVENUE_HOURLY)));
    return out.get(ReferenceViews.rowsOf(Views.ITEM_REVENUE_HOURLY));
  }

  private static TestStream.Builder<SourceRecord> stream() {
    return TestStream.create(SourceRecord.Coder.of());
  }

  @Test
  public void onlyPurchasesCountAndTheHourBoundaryIsExact() {
    PCollection<Row> rows =
        rows(
            stream()
                .addElements(
                    purchase("e-1", "u-1", "sku-1", 1000, at(0, 0)),
                    event("e-2", "u-1", "view", at(1, 0)),
                    purchase("e-3", "u-2", "sku-1", 250, at(59, 59, 999)),
                    purchase("e-4", "u-2", "sku-2", 99, at(59, 59, 999)),
                    purchase("e-5", "u-3", "sku-1", 1, at(60, 0, 0)))
                .advanceWatermarkTo(at(125, 0))
                .advanceWatermarkToInfinity(),
            ViewParameters.defaults());
    PAssert.that(rows)
        .inOnTimePane(hour(H10))
        .containsInAnyOrder(itemRevenue(H10, "sku-1", 2, 1250), itemRevenue(H10, "sku-2", 1, 99));
    PAssert.that(rows).inOnTimePane(hour(H11)).containsInAnyOrder(itemRevenue(H11, "sku-1", 1, 1));
    PAssert.that(rows)
        .inFinalPane(hour(H10))
        .containsInAnyOrder(itemRevenue(H10, "sku-1", 2, 1250), itemRevenue(H10, "sku-2", 1, 99));
    p.run();
  }

  @Test
  public void earlyPaneThenOnTimePane() {
    PCollection<Row> rows =
        rows(
            stream()
                .addElements(purchase("e-1", "u-1", "sku-1", 1000, at(5, 0)))
                .advanceProcessingTime(Duration.standardSeconds(31))
                .addElements(purchase("e-2", "u-2", "sku-1", 500, at(30, 0)))
                .advanceWatermarkTo(at(70, 0))
                .advanceWatermarkToInfinity(),
            ViewParameters.defaults().withEarlyFiringInterval(Duration.standardSeconds(30)));
    PAssert.that(rows)
        .inEarlyPane(hour(H10))
        .containsInAnyOrder(itemRevenue(H10, "sku-1", 1, 1000));
    PAssert.that(rows)
        .inOnTimePane(hour(H10))
        .containsInAnyOrder(itemRevenue(H10, "sku-1", 2, 1500));
    p.run();
  }

  @Test
  public void outOfOrderPurchaseBeforeTheHourClosesIsOnTime() {
    PCollection<Row> rows =
        rows(
            stream()
                .addElements(purchase("e-1", "u-1", "sku-1", 100, at(50, 0)))
                .advanceWatermarkTo(at(40, 0))
                .addElements(purchase("e-2", "u-2", "sku-1", 200, at(10, 0)))
                .advanceWatermarkTo(at(70, 0))
                .advanceWatermarkToInfinity(),
            ViewParameters.defaults());
    PAssert.that(rows)
        .inOnTimePane(hour(H10))
        .containsInAnyOrder(itemRevenue(H10, "sku-1", 2, 300));
    p.run();
  }

  @Test
  public void latePurchaseWithinLatenessUpdatesTheHour() {
    PCollection<Row> rows =
        rows(
            stream()
                .addElements(purchase("e-1", "u-1", "sku-1", 100, at(10, 0)))
                .advanceWatermarkTo(at(80, 0))
                .addElements(purchase("e-2", "u-2", "sku-1", 200, at(20, 0)))
                .advanceWatermarkTo(at(90, 0))
                .advanceWatermarkToInfinity(),
            ViewParameters.defaults());
    PAssert.that(rows)
        .inOnTimePane(hour(H10))
        .containsInAnyOrder(itemRevenue(H10, "sku-1", 1, 100));
    PAssert.that(rows).inFinalPane(hour(H10)).containsInAnyOrder(itemRevenue(H10, "sku-1", 2, 300));
    p.run();
  }

  @Test
  public void droppablyLatePurchaseIsCountedAndLeftOut() {
    TestStream<SourceRecord> stream =
        stream()
            .addElements(purchase("e-1", "u-1", "sku-1", 100, at(10, 0)))
            .advanceWatermarkTo(at(200, 0))
            .addElements(purchase("e-2", "u-2", "sku-1", 200, at(20, 0)))
            .advanceWatermarkToInfinity();
    PCollectionTuple out =
        p.apply(stream)
            .apply(
                ReferenceViews.of(ViewParameters.defaults())
                    .withViews(List.of(Views.ITEM_REVENUE_HOURLY)));
    PAssert.that(out.get(ReferenceViews.rowsOf(Views.ITEM_REVENUE_HOURLY)))
        .inFinalPane(hour(H10))
        .containsInAnyOrder(itemRevenue(H10, "sku-1", 1, 100));
    PAssert.that(out.get(ReferenceViews.LATE))
        .containsInAnyOrder(
            dev.kappabeam.transforms.events.EventParser.parse(
                    dev.kappabeam.transforms.TestRecords.purchaseJson(
                            "e-2", "u-2", "sku-1", 200, at(20, 0))
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .event());
    PipelineResult result = p.run();
    assertEquals(1, PipelineCounters.get(result, CounterNames.LATE));
    assertEquals(1, PipelineCounters.get(result, CounterNames.ACCEPTED));
  }
}
