package dev.kappabeam.transforms.views;

import static dev.kappabeam.transforms.TestRecords.at;
import static dev.kappabeam.transforms.TestRecords.event;
import static dev.kappabeam.transforms.TestRecords.purchase;
import static dev.kappabeam.transforms.TestRecords.session;
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
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.transforms.windowing.IntervalWindow;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Duration;
import org.joda.time.Instant;
import org.junit.Rule;
import org.junit.Test;

/** {@code user_sessions} on a replayed stream, including sessions merged by a late event. */
public class UserSessionsTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();

  private static final Duration GAP = Duration.standardMinutes(30);

  /** The session window Beam assigns: first event to last event plus the gap. */
  private static IntervalWindow window(Instant first, Instant last) {
    return new IntervalWindow(first, last.plus(GAP));
  }

  private PCollectionTuple run(TestStream<SourceRecord> stream, ViewParameters params) {
    return p.apply(stream).apply(ReferenceViews.of(params).withViews(List.of(Views.USER_SESSIONS)));
  }

  private static PCollection<Row> rows(PCollectionTuple out) {
    return out.get(ReferenceViews.rowsOf(Views.USER_SESSIONS));
  }

  private static TestStream.Builder<SourceRecord> stream() {
    return TestStream.create(SourceRecord.Coder.of());
  }

  /** Asserts the view a sink ends up with after applying every emitted pane. */
  private static void assertFinalView(PCollection<Row> rows, Row... expected) {
    PAssert.that(rows)
        .satisfies(
            (SerializableFunction<Iterable<Row>, Void>)
                panes -> {
                  assertEquals(
                      List.of(expected), new ViewTable(Views.USER_SESSIONS).applyAll(panes).rows());
                  return null;
                });
  }

  @Test
  public void gapOfExactlyThirtyMinutesStartsANewSession() {
    // 10:39:59.999 -> 11:09:59.999 is exactly the gap: a new session. 1 ms less would merge.
    PCollectionTuple out =
        run(
            stream()
                .addElements(
                    event("e-1", "u-1", "view", at(0, 0)),
                    purchase("e-2", "u-1", "sku-1", 100, at(10, 0)),
                    event("e-3", "u-1", "view", at(39, 59, 999)),
                    event("e-4", "u-1", "click", at(69, 59, 999)),
                    event("e-5", "u-2", "view", at(0, 0)),
                    event("e-6", "u-2", "view", at(29, 59, 999)))
                .advanceWatermarkTo(at(200, 0))
                .advanceWatermarkToInfinity(),
            ViewParameters.defaults());
    PAssert.that(rows(out))
        .inOnTimePane(window(at(0, 0), at(39, 59, 999)))
        .containsInAnyOrder(session("u-1", at(0, 0), at(39, 59, 999), 3, 1));
    PAssert.that(rows(out))
        .inOnTimePane(window(at(69, 59, 999), at(69, 59, 999)))
        .containsInAnyOrder(session("u-1", at(69, 59, 999), at(69, 59, 999), 1, 0));
    PAssert.that(rows(out))
        .inOnTimePane(window(at(0, 0), at(29, 59, 999)))
        .containsInAnyOrder(session("u-2", at(0, 0), at(29, 59, 999), 2, 0));
    assertFinalView(
        rows(out),
        session("u-1", at(0, 0), at(39, 59, 999), 3, 1),
        session("u-1", at(69, 59, 999), at(69, 59, 999), 1, 0),
        session("u-2", at(0, 0), at(29, 59, 999), 2, 0));
    p.run();
  }

  @Test
  public void earlyPaneShowsTheSessionSoFar() {
    PCollectionTuple out =
        run(
            stream()
                .addElements(event("e-1", "u-1", "view", at(0, 0)))
                .advanceProcessingTime(Duration.standardSeconds(61))
                .addElements(event("e-2", "u-1", "view", at(5, 0)))
                .advanceWatermarkTo(at(100, 0))
                .advanceWatermarkToInfinity(),
            ViewParameters.defaults().withEarlyFiringInterval(Duration.standardMinutes(1)));
    PAssert.that(rows(out))
        .inEarlyPane(window(at(0, 0), at(0, 0)))
        .containsInAnyOrder(session("u-1", at(0, 0), at(0, 0), 1, 0));
    PAssert.that(rows(out))
        .inOnTimePane(window(at(0, 0), at(5, 0)))
        .containsInAnyOrder(session("u-1", at(0, 0), at(5, 0), 2, 0));
    assertFinalView(rows(out), session("u-1", at(0, 0), at(5, 0), 2, 0));
    p.run();
  }

  @Test
  public void outOfOrderEventsFormOneSession() {
    PCollectionTuple out =
        run(
            stream()
                .addElements(event("e-1", "u-1", "view", at(20, 0)))
                .advanceWatermarkTo(at(10, 0))
                .addElements(event("e-2", "u-1", "view", at(0, 0)))
                .advanceWatermarkTo(at(100, 0))
                .advanceWatermarkToInfinity(),
            ViewParameters.defaults());
    PAssert.that(rows(out))
        .inOnTimePane(window(at(0, 0), at(20, 0)))
        .containsInAnyOrder(session("u-1", at(0, 0), at(20, 0), 2, 0));
    p.run();
  }

  @Test
  public void lateEventWithinLatenessExtendsTheSession() {
    PCollectionTuple out =
        run(
            stream()
                .addElements(event("e-1", "u-1", "view", at(0, 0)))
                .advanceWatermarkTo(at(45, 0))
                .addElements(purchase("e-2", "u-1", "sku-1", 10, at(20, 0)))
                .advanceWatermarkTo(at(60, 0))
                .advanceWatermarkToInfinity(),
            ViewParameters.defaults());
    PAssert.that(rows(out))
        .inOnTimePane(window(at(0, 0), at(0, 0)))
        .containsInAnyOrder(session("u-1", at(0, 0), at(0, 0), 1, 0));
    assertFinalView(rows(out), session("u-1", at(0, 0), at(20, 0), 2, 1));
    p.run();
  }

  @Test
  public void lateEventMergesTwoSessionsAndTheirRowsAreSuperseded() {
    PCollectionTuple out =
        run(
            stream()
                .addElements(
                    event("e-1", "u-1", "view", at(0, 0)), event("e-2", "u-1", "view", at(40, 0)))
                .advanceWatermarkTo(at(80, 0))
                .addElements(event("e-3", "u-1", "click", at(20, 0)))
                .advanceWatermarkTo(at(85, 0))
                .advanceWatermarkToInfinity(),
            ViewParameters.defaults());
    // Both sessions were emitted on time, then replaced by the merged one.
    PAssert.that(rows(out))
        .inOnTimePane(window(at(0, 0), at(0, 0)))
        .containsInAnyOrder(session("u-1", at(0, 0), at(0, 0), 1, 0));
    PAssert.that(rows(out))
        .inOnTimePane(window(at(40, 0), at(40, 0)))
        .containsInAnyOrder(session("u-1", at(40, 0), at(40, 0), 1, 0));
    PAssert.that(rows(out))
        .inFinalPane(window(at(0, 0), at(40, 0)))
        .containsInAnyOrder(session("u-1", at(0, 0), at(40, 0), 3, 0));
    assertFinalView(rows(out), session("u-1", at(0, 0), at(40, 0), 3, 0));
    p.run();
  }

  @Test
  public void droppablyLateEventDoesNotReopenAClosedSession() {
    PCollectionTuple out =
        run(
            stream()
                .addElements(event("e-1", "u-1", "view", at(0, 0)))
                .advanceWatermarkTo(at(300, 0))
                .addElements(event("e-2", "u-1", "view", at(10, 0)))
                .advanceWatermarkToInfinity(),
            ViewParameters.defaults());
    assertFinalView(rows(out), session("u-1", at(0, 0), at(0, 0), 1, 0));
    PAssert.that(out.get(ReferenceViews.LATE))
        .satisfies(
            (SerializableFunction<Iterable<dev.kappabeam.transforms.events.Event>, Void>)
                late -> {
                  assertEquals("e-2", late.iterator().next().eventId());
                  return null;
                });
    PipelineResult result = p.run();
    assertEquals(1, PipelineCounters.get(result, CounterNames.LATE));
  }

  @Test
  public void sessionGapIsAParameter() {
    PCollectionTuple out =
        run(
            stream()
                .addElements(
                    event("e-1", "u-1", "view", at(0, 0)), event("e-2", "u-1", "view", at(20, 0)))
                .advanceWatermarkToInfinity(),
            ViewParameters.defaults().withSessionGap(Duration.standardMinutes(10)));
    assertFinalView(
        rows(out),
        session("u-1", at(0, 0), at(0, 0), 1, 0),
        session("u-1", at(20, 0), at(20, 0), 1, 0));
    p.run();
  }
}
