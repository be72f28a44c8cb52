package dev.kappabeam.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.transforms.views.Views;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LiveViewQueryTest {
  @Test
  void rangeKeyAndTopBecomeOneParameterisedQueryOverTheAlias() {
    LiveViewQuery q =
        LiveViewQuery.parse(
            Views.ACTIVITY_PER_MINUTE,
            Map.of(
                "from", "2026-11-25T11:00:00+01:00",
                "to", "2026-11-25T10:05:00Z",
                "key", "click",
                "top", "3",
                "by", "revenue_cents"));
    assertEquals(
        "SELECT \"window_start\", \"type\", \"events\", \"distinct_users\", \"revenue_cents\""
            + " FROM \"activity_per_minute\" WHERE \"window_start\" >= ? AND \"window_start\" < ?"
            + " AND \"type\" = ? ORDER BY \"revenue_cents\" DESC, \"window_start\", \"type\" LIMIT 4",
        q.sql());
    assertEquals(
        List.of(
            OffsetDateTime.of(2026, 11, 25, 10, 0, 0, 0, ZoneOffset.UTC),
            OffsetDateTime.of(2026, 11, 25, 10, 5, 0, 0, ZoneOffset.UTC),
            "click"),
        q.parameters());
  }

  @Test
  void sessionsFilterOnSessionStartAndUser() {
    LiveViewQuery q =
        LiveViewQuery.parse(Views.USER_SESSIONS, Map.of("from", "2026-11-25", "key", "u-1"));
    assertTrue(q.sql().contains("\"session_start\" >= ? AND \"user_id\" = ?"), q.sql());
    assertTrue(q.sql().endsWith("ORDER BY \"user_id\", \"session_start\" LIMIT 1001"), q.sql());
  }

  @Test
  void aViewWithoutATimeColumnTakesAKeyButNoRange() {
    org.apache.beam.sdk.schemas.Schema totals =
        org.apache.beam.sdk.schemas.Schema.builder()
            .addStringField("shop")
            .addInt64Field("orders")
            .build();
    dev.kappabeam.transforms.views.ViewDefinition global =
        dev.kappabeam.transforms.views.ViewDefinition.keyed(
            "orders_per_shop", totals, List.of("shop"), "orders");
    assertEquals(null, LiveViewQuery.timeColumn(global));
    assertEquals("shop", LiveViewQuery.keyColumn(global));
    LiveViewQuery q = LiveViewQuery.parse(global, Map.of("key", "s-1"));
    assertTrue(q.sql().contains("WHERE \"shop\" = ?"), q.sql());
    ApiException e =
        assertThrows(
            ApiException.class, () -> LiveViewQuery.parse(global, Map.of("from", "2026-11-25")));
    assertTrue(e.getMessage().contains("has no time column"), e.getMessage());
  }

  @Test
  void topWithoutByRanksByTheProgressColumn() {
    LiveViewQuery q = LiveViewQuery.parse(Views.ITEM_REVENUE_HOURLY, Map.of("top", "5"));
    assertTrue(q.sql().contains("ORDER BY \"purchases\" DESC"), q.sql());
    assertEquals(5, q.limit);
  }

  @Test
  void badRequestsSayWhatIsAllowed() {
    assertEquals(
        "unknown column 'nope' for by= on view activity_per_minute; use one of events,"
            + " distinct_users, revenue_cents",
        bad(Map.of("by", "nope")));
    assertEquals(
        "column 'type' is not numeric for by= on view activity_per_minute; use one of events,"
            + " distinct_users, revenue_cents",
        bad(Map.of("by", "type")));
    assertTrue(bad(Map.of("from", "yesterday")).startsWith("from='yesterday' is not an ISO-8601"));
    assertTrue(
        bad(Map.of("from", "2026-11-25T10:00:00Z", "to", "2026-11-25T10:00:00Z"))
            .contains("must be before"));
    assertEquals("top must be between 1 and 10000, got 0", bad(Map.of("top", "0")));
    assertEquals("limit='x' is not a whole number", bad(Map.of("limit", "x")));
    assertEquals(
        "unknown parameter 'type'; use by, from, key, limit, to, top", bad(Map.of("type", "x")));
  }

  private static String bad(Map<String, String> params) {
    ApiException e =
        assertThrows(
            ApiException.class, () -> LiveViewQuery.parse(Views.ACTIVITY_PER_MINUTE, params));
    assertEquals(400, e.status);
    return e.getMessage();
  }
}
