package dev.kappabeam.transforms;

import static dev.kappabeam.transforms.TestRecords.T0;
import static dev.kappabeam.transforms.TestRecords.at;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import dev.kappabeam.transforms.events.DeadLetter;
import dev.kappabeam.transforms.events.JsonFormat;
import dev.kappabeam.transforms.events.SourceRecord;
import dev.kappabeam.transforms.views.CountAndSum;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.ViewSpec;
import dev.kappabeam.transforms.views.ViewTransform;
import dev.kappabeam.transforms.views.Views;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
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
 * Events of a team's own format (orders as mapped JSON, {@link JsonFormat}) through the same
 * machinery as the reference workload: parse with the format's rules and dead letters, de-duplicate
 * by the format's id, split late events, compute a fixed-window and a session view; bounded and a
 * TestStream give the same rows, and the counts add up.
 */
public class OwnFormatViewsTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();

  static final JsonFormat ORDERS =
      JsonFormat.named("orders-json")
          .string("order_id")
          .string("customer_id", "customer.id")
          .string("status")
          .int64("total_cents")
          .string("currency")
          .eventTime("ts")
          .idFrom("order_id", "status")
          .build();

  static final ViewDefinition REVENUE =
      ViewDefinition.keyed(
          "revenue_per_currency_5m",
          Schema.builder()
              .addDateTimeField("window_start")
              .addStringField("currency")
              .addInt64Field("orders")
              .addInt64Field("revenue_cents")
              .build(),
          List.of("window_start", "currency"),
          "orders");

  static final ViewDefinition FUNNEL =
      ViewDefinition.sessions(
          "customer_order_sessions",
          Schema.builder()
              .addStringField("customer_id")
              .addDateTimeField("session_start")
              .addDateTimeField("session_end")
              .addInt64Field("events")
              .build(),
          "customer_id",
          "session_start",
          "events");

  static final class Revenue implements ViewSpec<Row> {
    @Override
    public ViewDefinition definition() {
      return REVENUE;
    }

    @Override
    public JsonFormat format() {
      return ORDERS;
    }

    @Override
    public ViewTransform<Row, ?> transform(ViewParameters parameters) {
      return ViewTransform.of(REVENUE, format(), parameters)
          .selecting(o -> "paid".equals(o.getString("status")))
          .keyedBy(o -> o.getString("currency"))
          .fixedWindows(Duration.standardMinutes(5))
          .aggregating(
              CountAndSum.of(o -> o.getInt64("total_cents")),
              CountAndSum.CODER,
              OwnFormatViewsTest::revenueRow);
    }
  }

  static final class Funnel implements ViewSpec<Row> {
    @Override
    public ViewDefinition definition() {
      return FUNNEL;
    }

    @Override
    public JsonFormat format() {
      return ORDERS;
    }

    @Override
    public ViewTransform<Row, ?> transform(ViewParameters parameters) {
      Duration gap = parameters.sessionGap();
      return ViewTransform.of(FUNNEL, format(), parameters)
          .keyedBy(o -> o.getString("customer_id"))
          .sessions()
          .aggregating(
              CountAndSum.<Row>of(o -> o.getInt64("total_cents")),
              CountAndSum.CODER,
              (customer, s, w) -> {
                IntervalWindow iw = (IntervalWindow) w;
                return Row.withSchema(FUNNEL.schema())
                    .addValues(customer, iw.start(), iw.end().minus(gap), s.getKey())
                    .build();
              });
    }
  }

  static Row revenueRow(String currency, KV<Long, Long> s, BoundedWindow w) {
    return Row.withSchema(REVENUE.schema())
        .addValues(((IntervalWindow) w).start(), currency, s.getKey(), s.getValue())
        .build();
  }

  private static final ViewParameters PARAMS =
      ViewParameters.defaults()
          .withAllowedLateness(Duration.standardMinutes(10))
          .withSessionGap(Duration.standardMinutes(30));

  static TimestampedValue<SourceRecord> order(
      long offset,
      String id,
      String customer,
      String status,
      long cents,
      String currency,
      Instant ts) {
    String json =
        String.format(
            "{\"order_id\":\"%s\",\"customer\":{\"id\":\"%s\"},\"status\":\"%s\","
                + "\"total_cents\":%d,\"currency\":\"%s\",\"ts\":\"%s\"}",
            id, customer, status, cents, currency, ts);
    return raw(offset, json, ts);
  }

  static TimestampedValue<SourceRecord> raw(long offset, String value, Instant ts) {
    return TimestampedValue.of(
        new SourceRecord("orders", 0, offset, null, value.getBytes(StandardCharsets.UTF_8)), ts);
  }

  /** Seven orders' events, one re-sent, one with a text total, one not JSON. */
  static List<TimestampedValue<SourceRecord>> records() {
    List<TimestampedValue<SourceRecord>> r = new ArrayList<>();
    r.add(order(0, "o-1", "c-1", "placed", 1000, "EUR", at(0, 0)));
    r.add(order(1, "o-1", "c-1", "paid", 1000, "EUR", at(1, 0)));
    r.add(order(2, "o-1", "c-1", "paid", 1000, "EUR", at(1, 0))); // a producer's retry
    r.add(order(3, "o-2", "c-2", "paid", 250, "EUR", at(3, 0)));
    r.add(order(4, "o-3", "c-1", "paid", 99, "USD", at(4, 0)));
    r.add(order(5, "o-4", "c-2", "paid", 500, "EUR", at(7, 0)));
    r.add(order(6, "o-1", "c-1", "shipped", 1000, "EUR", at(50, 0)));
    r.add(
        raw(
            7,
            "{\"order_id\":\"o-9\",\"customer\":{\"id\":\"c\"},\"status\":\"paid\","
                + "\"total_cents\":\"lots\",\"currency\":\"EUR\",\"ts\":1000}",
            at(2, 0)));
    r.add(raw(8, "not json", at(2, 0)));
    return r;
  }

  static List<Row> expectedRevenue() {
    return List.of(
        revenueRow("EUR", KV.of(2L, 1250L), new IntervalWindow(T0, Duration.standardMinutes(5))),
        revenueRow("USD", KV.of(1L, 99L), new IntervalWindow(T0, Duration.standardMinutes(5))),
        revenueRow(
            "EUR", KV.of(1L, 500L), new IntervalWindow(at(5, 0), Duration.standardMinutes(5))));
  }

  static List<Row> expectedFunnel() {
    Schema s = FUNNEL.schema();
    return List.of(
        Row.withSchema(s).addValues("c-1", at(0, 0), at(4, 0), 3L).build(),
        Row.withSchema(s).addValues("c-1", at(50, 0), at(50, 0), 1L).build(),
        Row.withSchema(s).addValues("c-2", at(3, 0), at(7, 0), 2L).build());
  }

  private static LogViews<?> views() {
    return LogViews.of(List.of(new Revenue(), new Funnel()), PARAMS);
  }

  @Test
  public void boundedRunGivesTheRowsTheDeadLettersAndTheCounts() {
    PCollectionTuple out = p.apply(Create.timestamped(records())).apply(views());
    PAssert.that(out.get(LogViews.rowsOf(REVENUE))).containsInAnyOrder(expectedRevenue());
    PAssert.that(out.get(LogViews.rowsOf(FUNNEL))).containsInAnyOrder(expectedFunnel());
    PAssert.that(reasons(out.get(LogViews.DEAD_LETTERS)))
        .containsInAnyOrder("orders/0/7 wrong_type", "orders/0/8 malformed_json");
    PipelineResult result = p.run();
    assertCounts(result, 0);
  }

  @Test
  public void aStreamGivesTheSameRowsAndSendsTooLateOrdersToTheLateOutput() {
    TestStream.Builder<SourceRecord> stream = TestStream.create(SourceRecord.Coder.of());
    for (TimestampedValue<SourceRecord> r : records()) {
      stream = stream.addElements(r);
    }
    // Past the 5-minute windows plus their 10 minutes of lateness: an order of minute 2 is late.
    TimestampedValue<SourceRecord> tooLate = order(9, "o-5", "c-3", "paid", 7, "EUR", at(2, 0));
    PCollectionTuple out =
        p.apply(
                stream
                    .advanceWatermarkTo(at(40, 0))
                    .addElements(tooLate)
                    .advanceWatermarkToInfinity())
            .apply(views());
    PAssert.that(out.get(LogViews.rowsOf(REVENUE)))
        .satisfies(rows -> sameSet(expectedRevenue(), rows));
    PAssert.that(out.get(LogViews.rowsOf(FUNNEL)))
        .satisfies(rows -> sameSet(expectedFunnel(), rows));
    @SuppressWarnings("unchecked")
    PCollection<Row> late = (PCollection<Row>) out.get(views().late());
    PAssert.that(late.apply("LateIds", MapElements.into(TypeDescriptors.strings()).via(ORDERS::id)))
        .containsInAnyOrder("o-5/paid");
    PipelineResult result = p.run();
    assertCounts(result, 1);
  }

  @Test
  public void viewsOfTwoFormatsCannotShareARun() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> LogViews.of(List.of(new Revenue(), Views.specs().get(0)), PARAMS));
    assertTrue(e.getMessage(), e.getMessage().contains("read different event formats"));
    IllegalArgumentException excluded =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                LogViews.of(
                    List.of(new Revenue()),
                    PARAMS.withExcludedTypes(
                        Set.of(dev.kappabeam.transforms.events.EventType.VIEW))));
    assertTrue(excluded.getMessage(), excluded.getMessage().contains("no event types"));
  }

  /** read = accepted + dead_lettered + duplicates_removed + late. */
  private static void assertCounts(PipelineResult result, long late) {
    long read = PipelineCounters.get(result, CounterNames.READ);
    assertEquals(records().size() + late, read);
    assertEquals(2, PipelineCounters.get(result, CounterNames.DEAD_LETTERED));
    assertEquals(1, PipelineCounters.get(result, CounterNames.DUPLICATES_REMOVED));
    assertEquals(late, PipelineCounters.get(result, CounterNames.LATE));
    assertEquals(
        read,
        PipelineCounters.get(result, CounterNames.ACCEPTED)
            + PipelineCounters.get(result, CounterNames.DEAD_LETTERED)
            + PipelineCounters.get(result, CounterNames.DUPLICATES_REMOVED)
            + late);
  }

  private static PCollection<String> reasons(PCollection<DeadLetter> dead) {
    return dead.apply(
        "Reasons",
        MapElements.into(TypeDescriptors.strings())
            .via(
                d ->
                    d.record().topic()
                        + "/"
                        + d.record().partition()
                        + "/"
                        + d.record().offset()
                        + " "
                        + d.code()));
  }

  /** A stream's panes accumulate (a sink upserts them): the distinct rows are the expected. */
  private static Void sameSet(List<Row> expected, Iterable<Row> actual) {
    Set<Row> distinct = new HashSet<>();
    actual.forEach(distinct::add);
    assertEquals(new HashSet<>(expected), distinct);
    return null;
  }
}
