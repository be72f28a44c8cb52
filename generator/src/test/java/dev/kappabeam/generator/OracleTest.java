package dev.kappabeam.generator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.transforms.events.EventType;
import dev.kappabeam.transforms.events.ParseError;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.ViewTable;
import dev.kappabeam.transforms.views.Views;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Duration;
import org.joda.time.Instant;
import org.junit.jupiter.api.Test;

class OracleTest {
  private static final ViewParameters DEFAULTS = ViewParameters.defaults();

  /**
   * Minute boundaries, an offset and an epoch-millis ts, a non-ASCII user and item, a non-purchase
   * with an amount, a duplicate and a malformed record.
   */
  private static final List<byte[]> LOG =
      List.of(
          event("e-1", "u-1", "view", "\"2026-11-25T10:00:00.000Z\""),
          event("e-2", "u-2", "view", "\"2026-11-25T10:00:59.999Z\""),
          event("e-3", "u-1", "view", "\"2026-11-25T10:01:00.000Z\""),
          purchase("e-4", "u-Zoë-7", "sku-日本-3", 1299, "\"2026-11-25T11:00:30.000+01:00\""),
          json(
              "{\"type\":\"click\",\"event_id\":\"e-5\",\"amount_cents\":500,\"user_id\":\"u-1\","
                  + "\"item\":\"sku-1\",\"ts\":"
                  + millis("10:00:10")
                  + "}"),
          event("e-2", "u-2", "view", "\"2026-11-25T10:00:59.999Z\""),
          json("{\"event_id\":\"e-9\",\"user_id\":"),
          event("e-6", "u-2", "view", "\"2026-11-25T09:59:59.999Z\""),
          event("e-7", "u-1", "view", "\"2026-11-25T10:00:45Z\""));

  @Test
  void activityPerMinuteCountsEventsDistinctUsersAndPurchaseRevenuePerMinuteAndType() {
    assertEquals(
        List.of(
            activity("09:59", "view", 1, 1, 0),
            activity("10:00", "click", 1, 1, 0),
            activity("10:00", "purchase", 1, 1, 1299),
            activity("10:00", "view", 3, 2, 0),
            activity("10:01", "view", 1, 1, 0)),
        Oracle.compute(LOG, DEFAULTS).rows(Views.ACTIVITY_PER_MINUTE));
  }

  @Test
  void itemRevenueHourlyHasOnlyPurchases() {
    assertEquals(
        List.of(item("10:00", "sku-日本-3", 1, 1299)),
        Oracle.compute(LOG, DEFAULTS).rows(Views.ITEM_REVENUE_HOURLY));
  }

  @Test
  void itemRevenueHourlySplitsExactlyOnTheHour() {
    List<byte[]> log =
        List.of(
            purchase("p-1", "u-1", "sku-1", 100, "\"2026-11-25T10:59:59.999Z\""),
            purchase("p-2", "u-2", "sku-1", 250, "\"2026-11-25T11:00:00.000Z\""),
            purchase("p-3", "u-3", "sku-1", 50, "\"2026-11-25T10:00:00.000Z\""),
            purchase("p-4", "u-3", "sku-2", 1000, "\"2026-11-25T10:30:00Z\""),
            json(
                "{\"event_id\":\"v-1\",\"user_id\":\"u-1\",\"type\":\"cart\",\"item\":\"sku-1\","
                    + "\"amount_cents\":999,\"ts\":\"2026-11-25T10:10:00Z\"}"));
    assertEquals(
        List.of(
            item("10:00", "sku-1", 2, 150),
            item("10:00", "sku-2", 1, 1000),
            item("11:00", "sku-1", 1, 250)),
        Oracle.compute(log, DEFAULTS).rows(Views.ITEM_REVENUE_HOURLY));
  }

  @Test
  void userSessionsOfTheMixedLog() {
    assertEquals(
        List.of(
            session("u-1", "10:00:00", "10:01:00", 4, 0),
            session("u-2", "09:59:59.999", "10:00:59.999", 2, 0),
            session("u-Zoë-7", "10:00:30", "10:00:30", 1, 1)),
        Oracle.compute(LOG, DEFAULTS).rows(Views.USER_SESSIONS));
  }

  @Test
  void sessionContinuesOneMilliUnderTheGapAndSplitsExactlyAtIt() {
    List<byte[]> log =
        List.of(
            event("a-1", "u-a", "view", "\"2026-11-25T10:00:00.000Z\""),
            // 1 ms under 30 min after a-1: same session.
            purchase("a-2", "u-a", "sku-1", 100, "\"2026-11-25T10:29:59.999Z\""),
            // 29:59.999 after a-2: same session.
            event("a-3", "u-a", "view", "\"2026-11-25T10:59:59.998Z\""),
            // Exactly 30 min after a-3: a new session.
            event("a-4", "u-a", "click", "\"2026-11-25T11:29:59.998Z\""),
            // Arrives before the earlier event of its session.
            purchase("b-2", "u-b", "sku-2", 200, "\"2026-11-25T10:10:00Z\""),
            event("b-1", "u-b", "view", "\"2026-11-25T10:05:00Z\""));
    assertEquals(
        List.of(
            session("u-a", "10:00:00", "10:59:59.998", 3, 1),
            session("u-a", "11:29:59.998", "11:29:59.998", 1, 0),
            session("u-b", "10:05:00", "10:10:00", 2, 1)),
        Oracle.compute(log, DEFAULTS).rows(Views.USER_SESSIONS));

    ViewParameters fiveMinutes = DEFAULTS.withSessionGap(Duration.standardMinutes(5));
    assertEquals(
        List.of(
            session("u-a", "10:00:00", "10:00:00", 1, 0),
            session("u-a", "10:29:59.999", "10:29:59.999", 1, 1),
            session("u-a", "10:59:59.998", "10:59:59.998", 1, 0),
            session("u-a", "11:29:59.998", "11:29:59.998", 1, 0),
            session("u-b", "10:05:00", "10:05:00", 1, 0),
            session("u-b", "10:10:00", "10:10:00", 1, 1)),
        Oracle.compute(log, fiveMinutes).rows(Views.USER_SESSIONS));
  }

  @Test
  void countsSatisfyTheIdentities() {
    Oracle.Result r = Oracle.compute(LOG, DEFAULTS);
    assertEquals(9, r.read());
    assertEquals(8, r.parsed());
    assertEquals(1, r.deadLettered());
    assertEquals(1, r.duplicates());
    assertEquals(7, r.accepted());
    assertEquals(r.read(), r.parsed() + r.deadLettered());
    assertEquals(r.parsed(), r.accepted() + r.duplicates());
    assertEquals(Map.of(ParseError.MALFORMED_JSON, 1L), r.deadLettersByError());
  }

  @Test
  void excludedTypesLeaveEveryViewButAreStillAccepted() {
    Oracle.Result r = Oracle.compute(LOG, DEFAULTS.withExcludedTypes(Set.of(EventType.VIEW)));
    assertEquals(7, r.accepted());
    assertEquals(
        List.of(activity("10:00", "click", 1, 1, 0), activity("10:00", "purchase", 1, 1, 1299)),
        r.rows(Views.ACTIVITY_PER_MINUTE));
    assertEquals(List.of(item("10:00", "sku-日本-3", 1, 1299)), r.rows(Views.ITEM_REVENUE_HOURLY));
    assertEquals(
        List.of(
            session("u-1", "10:00:10", "10:00:10", 1, 0),
            session("u-Zoë-7", "10:00:30", "10:00:30", 1, 1)),
        r.rows(Views.USER_SESSIONS));

    Oracle.Result noPurchases =
        Oracle.compute(LOG, DEFAULTS.withExcludedTypes(Set.of(EventType.PURCHASE)));
    assertEquals(List.of(), noPurchases.rows(Views.ITEM_REVENUE_HOURLY));
  }

  @Test
  void firstCopyInLogOrderWinsOverAConflictingDuplicate() {
    List<byte[]> log =
        List.of(
            event("e-1", "u-1", "view", "\"2026-11-25T10:00:00Z\""),
            purchase("e-1", "u-2", "sku-1", 500, "\"2026-11-25T10:00:05Z\""));
    Oracle.Result r = Oracle.compute(log, DEFAULTS);
    assertEquals(1, r.duplicates());
    assertEquals(List.of(activity("10:00", "view", 1, 1, 0)), r.rows(Views.ACTIVITY_PER_MINUTE));
    assertEquals(List.of(), r.rows(Views.ITEM_REVENUE_HOURLY));
    assertEquals("u-1", r.acceptedEvents().get(0).userId());
  }

  @Test
  void everyKindOfBadRecordIsDeadLetteredAndCounted() {
    List<byte[]> log = new ArrayList<>();
    log.add(null);
    log.add(new byte[0]);
    log.add(json("[]"));
    log.add(new byte[] {'{', (byte) 0xFF, '}'});
    log.add(json("{\"event_id\":\"e-1\",\"user_id\":\"u-1\",\"type\":\"refund\",\"ts\":1}"));
    log.add(event("e-2", "u-1", "view", "\"2026-11-25T10:00:00\""));
    log.add(event("e-3", "u-1", "view", "1764064800000"));
    Oracle.Result r = Oracle.compute(log, DEFAULTS);
    assertEquals(7, r.read());
    assertEquals(1, r.parsed());
    assertEquals(6, r.deadLettered());
    assertEquals(
        Map.of(
            ParseError.EMPTY_RECORD, 2L,
            ParseError.NOT_AN_OBJECT, 1L,
            ParseError.NOT_UTF8, 1L,
            ParseError.INVALID_TYPE, 1L,
            ParseError.INVALID_TIMESTAMP, 1L),
        r.deadLettersByError());
  }

  @Test
  void windowsAreEpochAlignedAndEventsBeforeTheEpochAreDeadLettered() {
    assertEquals(0, Oracle.windowStart(59_999, 60_000));
    assertEquals(60_000, Oracle.windowStart(60_000, 60_000));
    assertEquals(-60_000, Oracle.windowStart(-1, 60_000));
    // The parser rejects event times before 1970 (Beam's FixedWindows misplaces them).
    Oracle.Result r = Oracle.compute(List.of(event("e-1", "u-1", "click", "-1")), DEFAULTS);
    assertEquals(1, r.deadLettered());
    assertEquals(List.of(), r.rows(Views.ACTIVITY_PER_MINUTE));
  }

  @Test
  void emptyLogGivesEmptyViewsInViewOrder() {
    Oracle.Result r = Oracle.compute(List.of(), DEFAULTS);
    assertEquals(
        Views.all().stream().map(ViewDefinition::name).toList(),
        new ArrayList<>(r.views().keySet()));
    r.views().values().forEach(rows -> assertEquals(List.of(), rows));
    assertEquals(0, r.read());
    assertEquals(0, r.accepted());
  }

  @Test
  void rowsHaveTheViewSchemasAndTheOrderOfAViewTable() {
    List<GeneratedRecord> records =
        WorkloadGenerator.seeded(11).withCount(5000).withLateFraction(0.05).generate();
    Oracle.Result r = Oracle.computeFromRecords(records, DEFAULTS);
    for (ViewDefinition view : Views.all()) {
      List<Row> rows = r.rows(view);
      assertTrue(rows.size() > 3, view + " has " + rows.size() + " rows");
      assertEquals(rows, r.views().get(view.name()));
      for (Row row : rows) {
        assertEquals(view.schema(), row.getSchema(), view::name);
      }
      assertEquals(new ViewTable(view).applyAll(rows).rows(), rows, view::name);
    }
  }

  private static byte[] json(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** {@code ts} is raw JSON: a quoted string or a number. */
  private static byte[] event(String id, String user, String type, String ts) {
    return json(
        "{\"event_id\":\""
            + id
            + "\",\"user_id\":\""
            + user
            + "\",\"type\":\""
            + type
            + "\",\"ts\":"
            + ts
            + "}");
  }

  private static byte[] purchase(String id, String user, String item, long cents, String ts) {
    return json(
        "{\"event_id\":\""
            + id
            + "\",\"user_id\":\""
            + user
            + "\",\"type\":\"purchase\",\"item\":\""
            + item
            + "\",\"amount_cents\":"
            + cents
            + ",\"ts\":"
            + ts
            + "}");
  }

  /** 2026-11-25 at a UTC time of day: {@code HH:mm}, {@code HH:mm:ss} or {@code HH:mm:ss.SSS}. */
  private static Instant at(String time) {
    return Instant.parse("2026-11-25T" + (time.length() == 5 ? time + ":00" : time) + "Z");
  }

  private static long millis(String time) {
    return at(time).getMillis();
  }

  private static Row activity(String minute, String type, long events, long users, long revenue) {
    return Row.withSchema(Views.ACTIVITY_PER_MINUTE.schema())
        .addValues(at(minute), type, events, users, revenue)
        .build();
  }

  private static Row item(String hour, String item, long purchases, long revenue) {
    return Row.withSchema(Views.ITEM_REVENUE_HOURLY.schema())
        .addValues(at(hour), item, purchases, revenue)
        .build();
  }

  private static Row session(String user, String start, String end, long events, long purchases) {
    return Row.withSchema(Views.USER_SESSIONS.schema())
        .addValues(user, at(start), at(end), events, purchases)
        .build();
  }
}
