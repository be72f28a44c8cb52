package dev.kappabeam.transforms.views;

import static dev.kappabeam.transforms.TestRecords.activity;
import static dev.kappabeam.transforms.TestRecords.at;
import static dev.kappabeam.transforms.TestRecords.event;
import static dev.kappabeam.transforms.TestRecords.purchase;
import static org.junit.Assert.assertEquals;

import dev.kappabeam.transforms.CounterNames;
import dev.kappabeam.transforms.PipelineCounters;
import dev.kappabeam.transforms.ReferenceViews;
import dev.kappabeam.transforms.events.Event;
import dev.kappabeam.transforms.events.SourceRecord;
import java.util.List;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.transforms.windowing.IntervalWindow;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Duration;
import org.junit.Rule;
import org.junit.Test;

/** {@code activity_per_minute} on a replayed stream: every kind of timing. */
public class ActivityPerMinuteTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();

  private static IntervalWindow minute(int m) {
    return new IntervalWindow(at(m, 0), at(m + 1, 0));
  }

  private PCollectionTuple run(TestStream<SourceRecord> stream, ViewParameters params) {
    return p.apply(stream)
        .apply(ReferenceViews.of(params).withViews(List.of(Views.ACTIVITY_PER_MINUTE)));
  }

  private static PCollection<Row> rows(PCollectionTuple out) {
    return out.get(ReferenceViews.rowsOf(Views.ACTIVITY_PER_MINUTE));
  }

  private static TestStream.Builder<SourceRecord> stream() {
    return TestStream.create(SourceRecord.Coder.of());
  }

  @Test
  public void onTimeEventsFillTheirMinuteAndBoundariesAreExact() {
    PCollectionTuple out =
        run(
            stream()
                .addElements(
                    event("e-1", "u-1", "view", at(0, 5)),
                    purchase("e-2", "u-2", "sku-1", 1299, at(0, 30)),
                    event("e-3", "u-1", "view", at(0, 59, 999)),
                    event("e-4", "u-3", "click", at(1, 0, 0)))
                .advanceWatermarkTo(at(3, 0))
                .advanceWatermarkToInfinity(),
            ViewParameters.defaults());
    List<Row> minute0 =
        List.of(activity(at(0, 0), "view", 2, 1, 0), activity(at(0, 0), "purchase", 1, 1, 1299));
    PAssert.that(rows(out)).inOnTimePane(minute(0)).containsInAnyOrder(minute0);
    PAssert.that(rows(out)).inFinalPane(minute(0)).containsInAnyOrder(minute0);
    PAssert.that(rows(out))
        .inOnTimePane(minute(1))
        .containsInAnyOrder(activity(at(1, 0), "click", 1, 1, 0));
    PAssert.that(out.get(ReferenceViews.LATE)).empty();
    p.run();
  }

  @Test
  public void earlyPaneShowsPartialCountThenOnTimePaneTheFullOne() {
    PCollectionTuple out =
        run(
            stream()
                .addElements(event("e-1", "u-1", "view", at(0, 5)))
                .advanceProcessingTime(Duration.standardSeconds(11))
                .addElements(event("e-2", "u-2", "view", at(0, 20)))
                .advanceWatermarkTo(at(3, 0))
                .advanceWatermarkToInfinity(),
            ViewParameters.defaults().withEarlyFiringInterval(Duration.standardSeconds(10)));
    PAssert.that(rows(out))
        .inEarlyPane(minute(0))
        .containsInAnyOrder(activity(at(0, 0), "view", 1, 1, 0));
    PAssert.that(rows(out))
        .inOnTimePane(minute(0))
        .containsInAnyOrder(activity(at(0, 0), "view", 2, 2, 0));
    p.run();
  }

  @Test
  public void outOfOrderEventBeforeWindowCloseIsOnTime() {
    PCollectionTuple out =
        run(
            stream()
                .addElements(event("e-1", "u-1", "view", at(0, 40)))
                .advanceWatermarkTo(at(0, 30))
                .addElements(event("e-2", "u-2", "view", at(0, 10)))
                .advanceWatermarkTo(at(3, 0))
                .advanceWatermarkToInfinity(),
            ViewParameters.defaults());
    PAssert.that(rows(out))
        .inOnTimePane(minute(0))
        .containsInAnyOrder(activity(at(0, 0), "view", 2, 2, 0));
    p.run();
  }

  @Test
  public void lateEventWithinLatenessUpdatesWindow() {
    PCollectionTuple out =
        run(
            stream()
                .addElements(event("e-1", "u-1", "view", at(0, 10)))
                .advanceWatermarkTo(at(5, 0))
                .addElements(
                    purchase("e-2", "u-2", "sku-9", 500, at(0, 20)),
                    event("e-3", "u-2", "view", at(0, 30)))
                .advanceWatermarkTo(at(10, 0))
                .advanceWatermarkToInfinity(),
            ViewParameters.defaults());
    PAssert.that(rows(out))
        .inOnTimePane(minute(0))
        .containsInAnyOrder(activity(at(0, 0), "view", 1, 1, 0));
    // The window had fired for "view"; the late events update that row, and the first row of
    // another key in the same window appears.
    PAssert.that(rows(out))
        .inFinalPane(minute(0))
        .containsInAnyOrder(
            activity(at(0, 0), "view", 2, 2, 0), activity(at(0, 0), "purchase", 1, 1, 500));
    PAssert.that(rows(out))
        .inWindow(minute(0))
        .satisfies(
            (SerializableFunction<Iterable<Row>, Void>)
                panes -> {
                  assertEquals(
                      List.of(
                          activity(at(0, 0), "purchase", 1, 1, 500),
                          activity(at(0, 0), "view", 2, 2, 0)),
                      new ViewTable(Views.ACTIVITY_PER_MINUTE).applyAll(panes).rows());
                  return null;
                });
    PAssert.that(out.get(ReferenceViews.LATE)).empty();
    PipelineResult result = p.run();
    assertEquals(3, PipelineCounters.get(result, CounterNames.ACCEPTED));
    assertEquals(0, PipelineCounters.get(result, CounterNames.LATE));
  }

  @Test
  public void droppablyLateEventGoesToLateOutputNotToTheView() {
    PCollectionTuple out =
        run(
            stream()
                .addElements(event("e-1", "u-1", "view", at(0, 10)))
                .advanceWatermarkTo(at(90, 0))
                .addElements(event("e-2", "u-2", "view", at(0, 20)))
                .advanceWatermarkToInfinity(),
            ViewParameters.defaults());
    PAssert.that(rows(out))
        .inFinalPane(minute(0))
        .containsInAnyOrder(activity(at(0, 0), "view", 1, 1, 0));
    PAssert.that(out.get(ReferenceViews.LATE))
        .satisfies(
            (SerializableFunction<Iterable<Event>, Void>)
                late -> {
                  List<String> ids = new java.util.ArrayList<>();
                  late.forEach(e -> ids.add(e.eventId()));
                  assertEquals(List.of("e-2"), ids);
                  return null;
                });
    PipelineResult result = p.run();
    assertEquals(2, PipelineCounters.get(result, CounterNames.READ));
    assertEquals(1, PipelineCounters.get(result, CounterNames.ACCEPTED));
    assertEquals(1, PipelineCounters.get(result, CounterNames.LATE));
  }

  @Test
  public void firstEventAfterAWatermarkJumpIsNeverSilentlyLost() {
    // No event yet, so the lateness check knows little about the watermark: the event may be
    // accepted or sent to the late output, but it must land in exactly one of them.
    PCollectionTuple out =
        run(
            stream()
                .advanceWatermarkTo(at(200, 0))
                .addElements(event("e-1", "u-1", "view", at(0, 10)))
                .advanceWatermarkToInfinity(),
            ViewParameters.defaults());
    PipelineResult result = p.run();
    long accepted = PipelineCounters.get(result, CounterNames.ACCEPTED);
    long late = PipelineCounters.get(result, CounterNames.LATE);
    assertEquals(1, accepted + late);
  }
}
