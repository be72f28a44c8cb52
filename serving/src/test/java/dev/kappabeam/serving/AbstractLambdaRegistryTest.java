package dev.kappabeam.serving;

import static dev.kappabeam.serving.TestRows.at;
import static dev.kappabeam.serving.TestRows.item;
import static dev.kappabeam.serving.TestRows.session;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewTable;
import dev.kappabeam.transforms.views.Views;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Lambda cutoffs, the atomic rebase and the merged reads (Java and the {@code <view>_lambda} SQL
 * views), on each serving database: H2 in PostgreSQL mode and PostgreSQL.
 */
abstract class AbstractLambdaRegistryTest {
  private static final long GAP = 30 * 60_000L;
  private StoreConfig config;
  private ViewStore store;
  private LambdaRegistry lambda;

  /** A store nobody else uses. */
  abstract StoreConfig freshConfig();

  /** Removes what {@link #freshConfig()} made. */
  void cleanUp(StoreConfig config) {}

  @BeforeEach
  void open() {
    config = freshConfig();
    store = new ViewStore(config);
    lambda = new LambdaRegistry(config);
  }

  @AfterEach
  void close() {
    if (config == null) {
      return; // skipped before it opened anything (no PostgreSQL)
    }
    lambda.close();
    store.close();
    cleanUp(config);
  }

  private static Row activity(Instant w, String type, long events, long revenue, String... users) {
    StringBuilder json = new StringBuilder("[");
    for (String u : new java.util.TreeSet<>(List.of(users))) {
      json.append(json.length() > 1 ? "," : "").append('"').append(u).append('"');
    }
    return Row.withSchema(Views.ACTIVITY_PER_MINUTE_PARTIAL.schema())
        .addValues(w, type, events, (long) users.length, revenue, json.append(']').toString())
        .build();
  }

  private LambdaRegistry.Cutoff doneCutoff(ViewDefinition view, long offset) {
    LambdaRegistry.Cutoff c =
        lambda.newCutoff(view.name(), "t", Map.of(0, offset, 1, 0L), "now", GAP);
    lambda.batchEnded(view.name(), c.id(), LambdaRegistry.DONE);
    return lambda.cutoff(view.name(), c.id()).orElseThrow();
  }

  private void write(ViewDefinition view, String version, List<Row> rows) {
    ViewDefinition partial = Views.lambdaPartial(view);
    store.createTable(partial, version);
    store.apply(partial, version, rows);
  }

  private List<Row> sql(ViewDefinition view) throws Exception {
    List<Row> out = new ArrayList<>();
    try (Connection c = config.connect();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT * FROM \"" + view.name() + "_lambda\"")) {
      TableSql t = new TableSql(view, view.name() + "_lambda");
      while (rs.next()) {
        out.add(t.readRow(rs));
      }
    }
    out.sort(RowValues.byKey(view));
    return out;
  }

  @Test
  void activityMergesUserSetsExactlyAcrossTheCutoff() throws Exception {
    Instant m0 = at("2026-11-25T10:00:00Z");
    Instant m1 = at("2026-11-25T10:01:00Z");
    LambdaRegistry.Cutoff c1 = doneCutoff(Views.ACTIVITY_PER_MINUTE, 10);
    write(
        Views.ACTIVITY_PER_MINUTE,
        c1.batchVersion(),
        List.of(activity(m0, "view", 3, 0, "u-1", "u-2"), activity(m1, "click", 1, 0, "u-3")));
    write(
        Views.ACTIVITY_PER_MINUTE,
        c1.speedVersion(),
        List.of(activity(m0, "view", 2, 0, "u-2", "u-4"), activity(m1, "view", 1, 0, "u-1")));
    lambda.rebase(Views.ACTIVITY_PER_MINUTE, c1);

    List<Row> expected =
        List.of(
            TestRows.activity(m0, "view", 5, 3, 0),
            TestRows.activity(m1, "click", 1, 1, 0),
            TestRows.activity(m1, "view", 1, 1, 0));
    expected = new ArrayList<>(expected);
    expected.sort(RowValues.byKey(Views.ACTIVITY_PER_MINUTE));
    assertEquals(expected, lambda.read(store, Views.ACTIVITY_PER_MINUTE));

    List<String> viaSql = new ArrayList<>();
    try (Connection c = config.connect();
        Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT \"type\", \"events\", \"distinct_users\", \"revenue_cents\" FROM"
                    + " \"activity_per_minute_lambda\" ORDER BY \"window_start\", \"type\"")) {
      while (rs.next()) {
        long users = rs.getLong(3);
        String u = rs.wasNull() ? "null" : Long.toString(users);
        viaSql.add(rs.getString(1) + " " + rs.getLong(2) + " " + u + " " + rs.getLong(4));
      }
    }
    // A key on both sides of the cutoff: distinct_users needs the Java merge (NULL in SQL).
    assertEquals(List.of("view 5 null 0", "click 1 1 0", "view 1 1 0"), viaSql);
  }

  @Test
  void sessionsStraddlingTheCutoffJoinWhenTheGapIsUnderTheSessionGap() throws Exception {
    LambdaRegistry.Cutoff c1 = doneCutoff(Views.USER_SESSIONS, 10);
    Instant t = at("2026-11-25T10:00:00Z");
    write(
        Views.USER_SESSIONS,
        c1.batchVersion(),
        List.of(
            session("u-1", t, t.plus(60_000), 2, 0),
            session("u-2", t, t.plus(60_000), 1, 1),
            session("u-3", t, t, 1, 0)));
    write(
        Views.USER_SESSIONS,
        c1.speedVersion(),
        List.of(
            // 29m59.999s after u-1's last event: joins; then a later one that chains on.
            session("u-1", t.plus(60_000 + GAP - 1), t.plus(60_000 + GAP - 1), 1, 1),
            // exactly the gap after u-2's last event: a new session (windows [t, t+gap) touch).
            session("u-2", t.plus(60_000 + GAP), t.plus(60_000 + GAP), 1, 0),
            // overlapping in time (out-of-order data after the cutoff).
            session("u-3", t.minus(1000), t.plus(5000), 2, 1)));
    lambda.rebase(Views.USER_SESSIONS, c1);
    List<Row> expected =
        new ArrayList<>(
            List.of(
                session("u-1", t, t.plus(60_000 + GAP - 1), 3, 1),
                session("u-2", t, t.plus(60_000), 1, 1),
                session("u-2", t.plus(60_000 + GAP), t.plus(60_000 + GAP), 1, 0),
                session("u-3", t.minus(1000), t.plus(5000), 3, 1)));
    expected.sort(RowValues.byKey(Views.USER_SESSIONS));
    assertEquals(expected, lambda.read(store, Views.USER_SESSIONS));
    assertEquals(expected, sql(Views.USER_SESSIONS), "the SQL view joins sessions too");
  }

  @Test
  void aPageIsTheFirstRowsOfTheExactMergeWithTheLimitInSql() {
    ViewDefinition v = Views.ACTIVITY_PER_MINUTE;
    assertTrue(lambda.readPage(v, 5, java.time.Duration.ofSeconds(30)).isEmpty());
    Instant m0 = at("2026-11-25T10:00:00Z");
    LambdaRegistry.Cutoff c1 = doneCutoff(v, 10);
    List<Row> batch = new ArrayList<>();
    List<Row> speed = new ArrayList<>();
    for (int m = 0; m < 30; m++) {
      for (String type : List.of("click", "purchase", "view")) {
        Instant w = m0.plus(m * 60_000L);
        batch.add(activity(w, type, 2, 0, "u-all", "u-" + m));
        // Even minutes on both sides: the SQL view leaves their distinct_users to Java.
        if (m % 2 == 0) {
          speed.add(activity(w, type, 1, 0, "u-" + m, "u-x"));
        }
      }
    }
    write(v, c1.batchVersion(), batch);
    write(v, c1.speedVersion(), speed);
    lambda.rebase(v, c1);
    List<Row> all = lambda.read(store, v);
    assertEquals(90, all.size());
    for (int limit : new int[] {1, 5, 44, 89, 90, 91, 10_000}) {
      LambdaRegistry.Page page =
          lambda.readPage(v, limit, java.time.Duration.ofSeconds(30)).orElseThrow();
      assertEquals(all.subList(0, Math.min(limit, 90)), page.rows(), "limit " + limit);
      assertEquals(limit < 90, page.truncated(), "limit " + limit);
      assertEquals(c1.id(), page.live().cutoffId());
    }
  }

  @Test
  void aPageOfSessionsJoinsAcrossTheCutoffAsTheFullRead() {
    ViewDefinition v = Views.USER_SESSIONS;
    LambdaRegistry.Cutoff c1 = doneCutoff(v, 10);
    Instant t = at("2026-11-25T10:00:00Z");
    List<Row> batch = new ArrayList<>();
    List<Row> speed = new ArrayList<>();
    for (int u = 10; u < 40; u++) {
      String user = "u-" + u;
      batch.add(session(user, t, t.plus(60_000), 2, 0));
      batch.add(session(user, t.plus(3 * GAP), t.plus(3 * GAP), 1, 0));
      // Every other user's speed session joins their last batch session.
      long start = u % 2 == 0 ? 3 * GAP + GAP / 2 : 5 * GAP;
      speed.add(session(user, t.plus(start), t.plus(start + 1000), 1, 1));
    }
    write(v, c1.batchVersion(), batch);
    write(v, c1.speedVersion(), speed);
    lambda.rebase(v, c1);
    List<Row> all = lambda.read(store, v);
    assertEquals(75, all.size());
    for (int limit : new int[] {1, 4, 5, 74, 75, 76}) {
      LambdaRegistry.Page page =
          lambda.readPage(v, limit, java.time.Duration.ofSeconds(30)).orElseThrow();
      assertEquals(all.subList(0, Math.min(limit, 75)), page.rows(), "limit " + limit);
      assertEquals(limit < 75, page.truncated(), "limit " + limit);
    }
  }

  @Test
  void rebaseSwitchesBothTablesAtOnceAndRetiresTheOldSpeedVersion() throws Exception {
    Instant h = at("2026-11-25T10:00:00Z");
    ViewDefinition v = Views.ITEM_REVENUE_HOURLY;
    assertThrows(RegistryException.class, () -> lambda.read(store, v));
    LambdaRegistry.Cutoff c1 = doneCutoff(v, 10);
    write(v, c1.batchVersion(), List.of(item(h, "sku-1", 2, 200)));
    write(v, c1.speedVersion(), List.of(item(h, "sku-1", 1, 100), item(h, "sku-2", 1, 5)));
    lambda.rebase(v, c1);
    assertEquals(List.of(item(h, "sku-1", 3, 300), item(h, "sku-2", 1, 5)), sql(v));

    // Batch 2 covers what speed 1 had (and one more purchase); speed 2 starts at cutoff 2.
    LambdaRegistry.Cutoff c2 = doneCutoff(v, 14);
    write(v, c2.batchVersion(), List.of(item(h, "sku-1", 3, 300), item(h, "sku-2", 2, 10)));
    write(v, c2.speedVersion(), List.of());
    assertEquals(List.of(item(h, "sku-1", 3, 300), item(h, "sku-2", 1, 5)), sql(v), "not yet");
    LambdaRegistry.Live live = lambda.rebase(v, c2);
    assertEquals("lambda_b2", live.batchVersion());
    assertEquals("lambda_s2", live.speedVersion());
    List<Row> after = List.of(item(h, "sku-1", 3, 300), item(h, "sku-2", 2, 10));
    assertEquals(after, sql(v));
    assertEquals(after, lambda.read(store, v));
    assertEquals(
        List.of(c1.id(), c2.id()), lambda.cutoffs(v.name()).stream().map(c -> c.id()).toList());
    assertEquals(c2.id(), lambda.latestBatch(v.name()).orElseThrow().id());
    // A speed job of cutoff 1 that reports caught-up late does not take readers back.
    assertEquals(c2.id(), lambda.rebase(v, c1).cutoffId());
    assertEquals(after, sql(v));
  }

  /** A team's keyed view: orders add, the first order time is a MIN, the last status a MAX. */
  static final ViewDefinition ORDERS =
      ViewDefinition.keyed(
              "orders_per_currency",
              org.apache.beam.sdk.schemas.Schema.builder()
                  .addDateTimeField("window_start")
                  .addStringField("currency")
                  .addInt64Field("orders")
                  .addDateTimeField("first_order")
                  .addStringField("last_status")
                  .build(),
              List.of("window_start", "currency"),
              "orders")
          .mergedBy(
              Map.of(
                  "orders", ViewDefinition.Merge.SUM,
                  "first_order", ViewDefinition.Merge.MIN,
                  "last_status", ViewDefinition.Merge.MAX));

  /** A team's session view with a column of its own: the largest order of the session. */
  static final ViewDefinition VISITS =
      ViewDefinition.sessions(
              "customer_visits",
              org.apache.beam.sdk.schemas.Schema.builder()
                  .addStringField("customer_id")
                  .addDateTimeField("session_start")
                  .addDateTimeField("session_end")
                  .addInt64Field("orders")
                  .addInt64Field("largest_cents")
                  .build(),
              "customer_id",
              "session_start",
              "orders")
          .mergedBy(
              Map.of(
                  "orders", ViewDefinition.Merge.SUM, "largest_cents", ViewDefinition.Merge.MAX));

  @Test
  void aTeamsViewsMergeByTheirOwnRulesInJavaAndInSql() throws Exception {
    Instant w = at("2026-11-25T10:00:00Z");
    Instant t1 = at("2026-11-25T10:01:00Z");
    Instant t2 = at("2026-11-25T10:03:00Z");
    org.apache.beam.sdk.schemas.Schema os = ORDERS.schema();
    LambdaRegistry.Cutoff c1 = doneCutoff(ORDERS, 10);
    write(
        ORDERS,
        c1.batchVersion(),
        List.of(
            Row.withSchema(os).addValues(w, "EUR", 2L, t1, "paid").build(),
            Row.withSchema(os).addValues(w, "USD", 1L, t2, "placed").build()));
    write(
        ORDERS,
        c1.speedVersion(),
        List.of(Row.withSchema(os).addValues(w, "EUR", 3L, t2, "shipped").build()));
    lambda.rebase(ORDERS, c1);
    List<Row> expected =
        List.of(
            Row.withSchema(os).addValues(w, "EUR", 5L, t1, "shipped").build(),
            Row.withSchema(os).addValues(w, "USD", 1L, t2, "placed").build());
    assertEquals(expected, lambda.read(store, ORDERS));
    assertEquals(expected, sql(ORDERS), "the SQL view merges by the same rules");

    org.apache.beam.sdk.schemas.Schema vs = VISITS.schema();
    LambdaRegistry.Cutoff c2 = doneCutoff(VISITS, 10);
    Instant t = at("2026-11-25T10:00:00Z");
    write(
        VISITS,
        c2.batchVersion(),
        List.of(Row.withSchema(vs).addValues("c-1", t, t.plus(60_000), 2L, 700L).build()));
    write(
        VISITS,
        c2.speedVersion(),
        List.of(
            Row.withSchema(vs).addValues("c-1", t.plus(120_000), t.plus(180_000), 1L, 900L).build(),
            Row.withSchema(vs)
                .addValues("c-1", t.plus(180_000 + GAP), t.plus(180_000 + GAP), 1L, 5L)
                .build()));
    lambda.rebase(VISITS, c2);
    List<Row> sessions =
        List.of(
            Row.withSchema(vs).addValues("c-1", t, t.plus(180_000), 3L, 900L).build(),
            Row.withSchema(vs)
                .addValues("c-1", t.plus(180_000 + GAP), t.plus(180_000 + GAP), 1L, 5L)
                .build());
    assertEquals(sessions, lambda.read(store, VISITS));
    assertEquals(sessions, sql(VISITS), "the SQL view joins sessions by the same rules");
  }

  @Test
  void aCutoffWithoutACompletedBatchCannotGoLive() {
    LambdaRegistry.Cutoff c =
        lambda.newCutoff("item_revenue_hourly", "t", Map.of(0, 5L), "now", GAP);
    assertFalse(lambda.latestBatch("item_revenue_hourly").isPresent());
    assertTrue(
        assertThrows(RegistryException.class, () -> lambda.rebase(Views.ITEM_REVENUE_HOURLY, c))
            .getMessage()
            .contains("no completed batch run"));
  }

  @Test
  void javaSessionMergeEqualsSessionsOfTheUnionOfEvents() {
    // Events of one user on both sides; sessions of each side, merged, equal sessions of all.
    long[] before = {0, 10 * 60_000, 100 * 60_000};
    long[] after = {35 * 60_000, 50 * 60_000, 200 * 60_000, 9 * 60_000};
    List<Row> all = new ArrayList<>();
    List<Row> b = sessionsOf(before);
    List<Row> s = sessionsOf(after);
    long[] both = new long[before.length + after.length];
    System.arraycopy(before, 0, both, 0, before.length);
    System.arraycopy(after, 0, both, before.length, after.length);
    all.addAll(sessionsOf(both));
    assertEquals(all, LambdaViews.merge(Views.USER_SESSIONS, b, s, GAP));
  }

  /** Sessions of one user's events with the 30-minute gap, the reference way (ViewTable). */
  private static List<Row> sessionsOf(long[] times) {
    long[] t = times.clone();
    java.util.Arrays.sort(t);
    List<Row> out = new ArrayList<>();
    int i = 0;
    while (i < t.length) {
      int j = i;
      while (j + 1 < t.length && t[j + 1] < t[j] + GAP) {
        j++;
      }
      Instant t0 = at("2026-11-25T10:00:00Z");
      out.add(session("u-1", t0.plus(t[i]), t0.plus(t[j]), j - i + 1, 0));
      i = j + 1;
    }
    return new ViewTable(Views.USER_SESSIONS).applyAll(out).rows();
  }

  @Test
  void usersColumnParsesEscapes() {
    assertEquals(List.of(), LambdaViews.parseUsers("[]"));
    assertEquals(
        List.of("a\"b", "c\\d", "é"),
        LambdaViews.parseUsers("[\"a\\\"b\", \"c\\\\d\",\"\\u00e9\"]"));
    assertThrows(IllegalArgumentException.class, () -> LambdaViews.parseUsers("[\"a\""));
  }
}
