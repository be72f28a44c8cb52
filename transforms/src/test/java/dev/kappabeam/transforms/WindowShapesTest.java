package dev.kappabeam.transforms;

import static dev.kappabeam.transforms.TestRecords.T0;
import static dev.kappabeam.transforms.TestRecords.at;
import static dev.kappabeam.transforms.TestRecords.event;
import static dev.kappabeam.transforms.TestRecords.purchase;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import dev.kappabeam.transforms.events.Event;
import dev.kappabeam.transforms.events.ReferenceFormat;
import dev.kappabeam.transforms.events.SourceRecord;
import dev.kappabeam.transforms.views.CountAndSum;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.ViewSpec;
import dev.kappabeam.transforms.views.ViewTransform;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.windowing.IntervalWindow;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TimestampedValue;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Duration;
import org.joda.time.Instant;
import org.junit.Rule;
import org.junit.Test;

/**
 * The two window shapes beyond fixed windows and sessions, through the whole machinery (parse,
 * de-duplicate, late split, views): sliding windows (an event counts in every window covering it)
 * and the global window (a running total per key). Bounded and a TestStream give the rows of an
 * oracle computed here from the events; a late event within the lateness updates the rows (every
 * sliding window it falls in), a too-late one leaves through the late output and is counted; the
 * global window fires early panes (every early firing interval, or every 10 s by default).
 */
public class WindowShapesTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();

  private static final Duration SIZE = Duration.standardMinutes(10);
  private static final Duration PERIOD = Duration.standardMinutes(5);

  static final ViewDefinition SLIDING =
      ViewDefinition.keyed(
          "events_per_type_10m_sliding",
          Schema.builder()
              .addDateTimeField("window_start")
              .addStringField("type")
              .addInt64Field("events")
              .addInt64Field("revenue_cents")
              .build(),
          List.of("window_start", "type"),
          "events");

  static final ViewDefinition TOTALS =
      ViewDefinition.keyed(
              "events_per_user_total",
              Schema.builder()
                  .addStringField("user_id")
                  .addInt64Field("events")
                  .addInt64Field("revenue_cents")
                  .build(),
              List.of("user_id"),
              "events")
          .mergedBy(
              Map.of(
                  "events", ViewDefinition.Merge.SUM, "revenue_cents", ViewDefinition.Merge.SUM));

  static final class Sliding implements ViewSpec<Event> {
    @Override
    public ViewDefinition definition() {
      return SLIDING;
    }

    @Override
    public ReferenceFormat format() {
      return ReferenceFormat.of();
    }

    @Override
    public ViewTransform<Event, ?> transform(ViewParameters parameters) {
      return ViewTransform.of(SLIDING, parameters)
          .keyedBy(e -> e.type().json())
          .slidingWindows(SIZE, PERIOD)
          .aggregating(
              CountAndSum.of(Event::revenueCents),
              CountAndSum.CODER,
              (type, s, w) -> slidingRow(((IntervalWindow) w).start(), type, s));
    }
  }

  static final class Totals implements ViewSpec<Event> {
    @Override
    public ViewDefinition definition() {
      return TOTALS;
    }

    @Override
    public ReferenceFormat format() {
      return ReferenceFormat.of();
    }

    @Override
    public ViewTransform<Event, ?> transform(ViewParameters parameters) {
      return ViewTransform.of(TOTALS, parameters)
          .keyedBy(Event::userId)
          .globalWindow()
          .aggregating(
              CountAndSum.of(Event::revenueCents),
              CountAndSum.CODER,
              (user, s, w) -> totalRow(user, s));
    }
  }

  static Row slidingRow(Instant start, String type, KV<Long, Long> s) {
    return Row.withSchema(SLIDING.schema())
        .addValues(start, type, s.getKey(), s.getValue())
        .build();
  }

  static Row totalRow(String user, KV<Long, Long> s) {
    return Row.withSchema(TOTALS.schema()).addValues(user, s.getKey(), s.getValue()).build();
  }

  private static final ViewParameters PARAMS =
      ViewParameters.defaults().withAllowedLateness(Duration.standardMinutes(10));

  /** One event as the oracle sees it. */
  private record E(String user, String type, long cents, Instant ts) {}

  private static final List<E> EVENTS =
      List.of(
          new E("u1", "view", 0, at(0, 10)),
          new E("u1", "purchase", 500, at(3, 0)),
          new E("u2", "view", 0, at(6, 0)),
          new E("u2", "click", 0, at(7, 30)),
          new E("u1", "view", 0, at(12, 0)),
          new E("u3", "purchase", 250, at(14, 59)));

  private static int ids;

  private static TimestampedValue<SourceRecord> record(E e) {
    String id = "w-" + (++ids);
    return "purchase".equals(e.type())
        ? purchase(id, e.user(), "sku-1", e.cents(), e.ts())
        : event(id, e.user(), e.type(), e.ts());
  }

  /** Sliding rows: every window [start, start + 10 min) with start a multiple of 5 min. */
  private static List<Row> slidingOracle(List<E> events) {
    Map<KV<Instant, String>, long[]> rows =
        new TreeMap<>(java.util.Comparator.comparing(Object::toString));
    for (E e : events) {
      long t = e.ts().getMillis();
      long last = t - Math.floorMod(t, PERIOD.getMillis());
      for (long start = last; start > t - SIZE.getMillis(); start -= PERIOD.getMillis()) {
        long[] r = rows.computeIfAbsent(KV.of(new Instant(start), e.type()), k -> new long[2]);
        r[0]++;
        r[1] += e.cents();
      }
    }
    List<Row> out = new ArrayList<>();
    rows.forEach((k, v) -> out.add(slidingRow(k.getKey(), k.getValue(), KV.of(v[0], v[1]))));
    return out;
  }

  private static List<Row> totalsOracle(List<E> events) {
    Map<String, long[]> rows = new TreeMap<>();
    for (E e : events) {
      long[] r = rows.computeIfAbsent(e.user(), k -> new long[2]);
      r[0]++;
      r[1] += e.cents();
    }
    List<Row> out = new ArrayList<>();
    rows.forEach((k, v) -> out.add(totalRow(k, KV.of(v[0], v[1]))));
    return out;
  }

  private static LogViews<?> views(ViewParameters params) {
    return LogViews.of(List.of(new Sliding(), new Totals()), params);
  }

  @Test
  public void theOracleCountsAnEventInEveryWindowCoveringIt() {
    List<Row> rows = slidingOracle(List.of(new E("u", "view", 0, at(7, 0))));
    assertEquals(
        List.of(slidingRow(T0, "view", KV.of(1L, 0L)), slidingRow(at(5, 0), "view", KV.of(1L, 0L))),
        rows);
  }

  @Test
  public void boundedRunGivesTheOraclesRows() {
    List<TimestampedValue<SourceRecord>> records = new ArrayList<>();
    EVENTS.forEach(e -> records.add(record(e)));
    PCollectionTuple out = p.apply(Create.timestamped(records)).apply(views(PARAMS));
    PAssert.that(out.get(LogViews.rowsOf(SLIDING))).containsInAnyOrder(slidingOracle(EVENTS));
    PAssert.that(out.get(LogViews.rowsOf(TOTALS))).containsInAnyOrder(totalsOracle(EVENTS));
    PipelineResult result = p.run();
    assertEquals(EVENTS.size(), PipelineCounters.get(result, CounterNames.ACCEPTED));
  }

  @Test
  public void aStreamUpdatesRowsWithLateEventsAndSendsTooLateOnesToTheLateOutput() {
    TestStream.Builder<SourceRecord> stream = TestStream.create(SourceRecord.Coder.of());
    for (E e : EVENTS) {
      stream = stream.addElements(record(e));
    }
    // 8 minutes behind a watermark at minute 16: within the 10 minutes, so windows [0, 10) and
    // [5, 15) (both past their end) and u2's total are updated by late panes.
    E late = new E("u2", "purchase", 70, at(8, 0));
    // 31 minutes behind a watermark at minute 40: too late for every view.
    E tooLate = new E("u4", "view", 0, at(9, 0));
    PCollectionTuple out =
        p.apply(
                stream
                    .advanceWatermarkTo(at(16, 0))
                    .addElements(record(late))
                    .advanceWatermarkTo(at(40, 0))
                    .addElements(record(tooLate))
                    .advanceWatermarkToInfinity())
            .apply(views(PARAMS));
    List<E> onTime = new ArrayList<>(EVENTS);
    onTime.add(late);
    List<Row> sliding = slidingOracle(onTime);
    List<Row> totals = totalsOracle(onTime);
    PAssert.that(out.get(LogViews.rowsOf(SLIDING)))
        .satisfies(rows -> lastPanes(SLIDING, sliding, rows));
    PAssert.that(out.get(LogViews.rowsOf(TOTALS)))
        .satisfies(rows -> lastPanes(TOTALS, totals, rows));
    @SuppressWarnings("unchecked")
    PCollection<Event> lateEvents = (PCollection<Event>) out.get(views(PARAMS).late());
    PAssert.that(
            lateEvents.apply(
                "LateUsers", MapElements.into(TypeDescriptors.strings()).via(Event::userId)))
        .containsInAnyOrder("u4");
    PipelineResult result = p.run();
    assertEquals(1, PipelineCounters.get(result, CounterNames.LATE));
    assertEquals(EVENTS.size() + 1, PipelineCounters.get(result, CounterNames.ACCEPTED));
  }

  /**
   * Two events; 11 s of processing time (the 10 s default fires: 2 events); a third; 2 minutes (the
   * 1-minute interval fires its first pane: 3 events, the default its second); a fourth; the end.
   */
  @Test
  public void theGlobalWindowFiresEveryEarlyFiringIntervalOrEveryTenSecondsByDefault() {
    TestStream<SourceRecord> stream =
        TestStream.create(SourceRecord.Coder.of())
            .addElements(record(new E("u1", "view", 0, at(0, 0))))
            .addElements(record(new E("u1", "purchase", 300, at(1, 0))))
            .advanceProcessingTime(Duration.standardSeconds(11))
            .addElements(record(new E("u1", "view", 0, at(2, 0))))
            .advanceProcessingTime(Duration.standardMinutes(2))
            .addElements(record(new E("u1", "click", 0, at(3, 0))))
            .advanceWatermarkToInfinity();
    PCollection<SourceRecord> records = p.apply(stream);
    PCollectionTuple byDefault =
        records.apply("DefaultFirings", LogViews.of(List.of(new Totals()), PARAMS));
    PCollectionTuple everyMinute =
        records.apply(
            "FiringsEveryMinute",
            LogViews.of(
                List.of(new Totals()),
                PARAMS.withEarlyFiringInterval(Duration.standardMinutes(1))));
    PAssert.that("every 10 s", byDefault.get(LogViews.rowsOf(TOTALS)))
        .containsInAnyOrder(
            totalRow("u1", KV.of(2L, 300L)),
            totalRow("u1", KV.of(3L, 300L)),
            totalRow("u1", KV.of(4L, 300L)));
    PAssert.that("every minute", everyMinute.get(LogViews.rowsOf(TOTALS)))
        .containsInAnyOrder(totalRow("u1", KV.of(3L, 300L)), totalRow("u1", KV.of(4L, 300L)));
    p.run();
  }

  @Test
  public void slidingWindowsNeedAPeriodThatDividesTheSize() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                ViewTransform.of(SLIDING, PARAMS)
                    .slidingWindows(Duration.standardMinutes(10), Duration.standardMinutes(3)));
    assertTrue(e.getMessage(), e.getMessage().contains("events_per_type_10m_sliding"));
    assertTrue(e.getMessage(), e.getMessage().contains("must divide"));
  }

  /** Panes accumulate: per key, the pane with the most events is the row a sink keeps. */
  private static Void lastPanes(ViewDefinition view, List<Row> expected, Iterable<Row> panes) {
    Map<List<Object>, Row> last = new HashMap<>();
    for (Row r : panes) {
      last.merge(view.key(r), r, (a, b) -> view.progress(b) > view.progress(a) ? b : a);
    }
    Set<Row> actual = new HashSet<>(last.values());
    assertEquals(new HashSet<>(expected), actual);
    return null;
  }
}
