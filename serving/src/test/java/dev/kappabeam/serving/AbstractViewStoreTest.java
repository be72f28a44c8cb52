package dev.kappabeam.serving;

import static dev.kappabeam.serving.TestRows.T0;
import static dev.kappabeam.serving.TestRows.activity;
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
import java.io.StringWriter;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TimeZone;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Duration;
import org.joda.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every serving database must show, run against H2 ({@link ViewStoreH2Test}) and a
 * real PostgreSQL ({@link ViewStorePostgresIT}). Each test works on its own uniquely named tables
 * and drops them afterwards, so runs can share a database.
 */
abstract class AbstractViewStoreTest {
  /** The database under test. May abort the test (assumption) when it is not available. */
  abstract StoreConfig config();

  private final String run = UUID.randomUUID().toString().replace("-", "").substring(0, 8);
  private final List<StoredTable> created = new ArrayList<>();
  private int tables;
  ViewStore store;

  @BeforeEach
  void openStore() {
    store = new ViewStore(config());
  }

  @AfterEach
  void dropTables() {
    for (StoredTable t : created) {
      store.dropTable(t.view(), t.version());
    }
  }

  /** A fresh table of {@code view}, dropped after the test; returns its version. */
  String newTable(ViewDefinition view) {
    String version = "t" + run + "_" + (++tables);
    store.createTable(view, version);
    created.add(new StoredTable(view, version, 0));
    return version;
  }

  private static List<Row> reference(ViewDefinition view, List<Row> panes) {
    return new ViewTable(view).applyAll(panes).rows();
  }

  // --- tables ------------------------------------------------------------------------------------

  @Test
  void createTableIsIdempotentAndTheTableIsListedWithItsRowCount() {
    String v = newTable(Views.ACTIVITY_PER_MINUTE);
    store.createTable(Views.ACTIVITY_PER_MINUTE, v);
    store.apply(Views.ACTIVITY_PER_MINUTE, v, List.of(activity(T0, "view", 3, 2, 0)));

    assertTrue(store.tableExists(Views.ACTIVITY_PER_MINUTE, v));
    assertFalse(store.tableExists(Views.USER_SESSIONS, v));
    assertTrue(store.listTables().contains(new StoredTable(Views.ACTIVITY_PER_MINUTE, v, 1)));
    assertTrue(store.versions(Views.ACTIVITY_PER_MINUTE).contains(v));
  }

  @Test
  void progressReadsTheViewsOwnTimeColumnOrNoneForAViewWithoutOne() {
    org.apache.beam.sdk.schemas.Schema perMinute =
        org.apache.beam.sdk.schemas.Schema.builder()
            .addDateTimeField("minute")
            .addStringField("shop")
            .addInt64Field("orders")
            .build();
    ViewDefinition timed =
        ViewDefinition.keyed(
            "orders_per_shop_minute", perMinute, List.of("minute", "shop"), "orders");
    String v = newTable(timed);
    store.apply(
        timed,
        v,
        List.of(
            Row.withSchema(perMinute).addValues(T0, "s-1", 2L).build(),
            Row.withSchema(perMinute).addValues(T0.plus(60_000), "s-2", 3L).build()));
    assertEquals(
        new ViewStore.TableProgress(2, 5, java.time.Instant.ofEpochMilli(T0.getMillis() + 60_000)),
        store.progress(timed, v));

    org.apache.beam.sdk.schemas.Schema totals =
        org.apache.beam.sdk.schemas.Schema.builder()
            .addStringField("shop")
            .addInt64Field("orders")
            .build();
    ViewDefinition global =
        ViewDefinition.keyed("orders_per_shop", totals, List.of("shop"), "orders");
    String g = newTable(global);
    store.apply(global, g, List.of(Row.withSchema(totals).addValues("s-1", 7L).build()));
    assertEquals(new ViewStore.TableProgress(1, 7, null), store.progress(global, g));
  }

  @Test
  void dropTableRemovesTheTableAndSaysWhetherItExisted() {
    String v = newTable(Views.ITEM_REVENUE_HOURLY);
    assertTrue(store.dropTable(Views.ITEM_REVENUE_HOURLY, v));
    assertFalse(store.tableExists(Views.ITEM_REVENUE_HOURLY, v));
    assertFalse(store.dropTable(Views.ITEM_REVENUE_HOURLY, v));
  }

  @Test
  void droppingAVersionThatAnAliasReadsSaysToSwitchTheAliasFirst() throws Exception {
    String v = newTable(Views.USER_SESSIONS);
    store.apply(Views.USER_SESSIONS, v, List.of(session("u-1", T0, T0, 1, 0)));
    String alias = "user_sessions_alias_" + run;
    try (Connection c = config().connect();
        Statement st = c.createStatement()) {
      st.execute("CREATE VIEW \"" + alias + "\" AS SELECT * FROM \"user_sessions__" + v + "\"");
    }
    try {
      ViewStoreException e =
          assertThrows(ViewStoreException.class, () -> store.dropTable(Views.USER_SESSIONS, v));
      assertTrue(e.getMessage().contains("alias"), e.getMessage());
      // Nothing was lost: the table and its apply locks are still usable.
      assertEquals(1, store.apply(Views.USER_SESSIONS, v, List.of(session("u-2", T0, T0, 1, 0))));
    } finally {
      try (Connection c = config().connect();
          Statement st = c.createStatement()) {
        st.execute("DROP VIEW \"" + alias + "\"");
      }
    }
  }

  @Test
  void readingAMissingVersionNamesTheKnownVersions() {
    String v1 = newTable(Views.ACTIVITY_PER_MINUTE);
    String missing = "t" + run + "_missing";
    ViewStoreException e =
        assertThrows(
            ViewStoreException.class, () -> store.readAll(Views.ACTIVITY_PER_MINUTE, missing));
    assertTrue(
        e.getMessage()
            .startsWith("no table activity_per_minute__" + missing + "; known versions: "),
        e.getMessage());
    assertTrue(e.getMessage().contains(v1), e.getMessage());
  }

  @Test
  void applyingToAMissingVersionFailsWithAHint() {
    String missing = "t" + run + "_missing";
    ViewStoreException e =
        assertThrows(
            ViewStoreException.class,
            () -> store.apply(Views.USER_SESSIONS, missing, List.of(session("u", T0, T0, 1, 0))));
    assertTrue(e.getMessage().startsWith("no table user_sessions__" + missing), e.getMessage());
    assertTrue(e.getMessage().contains("createTable"), e.getMessage());
  }

  @Test
  void invalidVersionsAreRejectedBeforeTouchingTheDatabase() {
    for (String bad : new String[] {"V1", "v-1", "", "v1; DROP TABLE x", "v1\"", "ü"}) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> store.createTable(Views.ACTIVITY_PER_MINUTE, bad));
      assertTrue(e.getMessage().contains("[a-z0-9_]+"), e.getMessage());
    }
    IllegalArgumentException tooLong =
        assertThrows(
            IllegalArgumentException.class,
            () -> store.createTable(Views.ACTIVITY_PER_MINUTE, "v".repeat(43)));
    assertTrue(tooLong.getMessage().contains("at most 63"), tooLong.getMessage());
  }

  @Test
  void rowsOfAnotherViewAreRejected() {
    String v = newTable(Views.ACTIVITY_PER_MINUTE);
    assertThrows(
        IllegalArgumentException.class,
        () -> store.apply(Views.ACTIVITY_PER_MINUTE, v, List.of(item(T0, "sku-1", 1, 100))));
  }

  // --- keyed views -------------------------------------------------------------------------------

  @Test
  void applyingTheSameBatchTwiceChangesNothing() {
    String v = newTable(Views.ACTIVITY_PER_MINUTE);
    List<Row> panes = TestRows.activityPanes(1);
    assertTrue(store.apply(Views.ACTIVITY_PER_MINUTE, v, panes) > 0);
    List<Row> once = store.readAll(Views.ACTIVITY_PER_MINUTE, v);

    assertEquals(0, store.apply(Views.ACTIVITY_PER_MINUTE, v, panes));
    assertEquals(once, store.readAll(Views.ACTIVITY_PER_MINUTE, v));
    assertEquals(reference(Views.ACTIVITY_PER_MINUTE, panes), once);
  }

  @Test
  void stalePaneDoesNotOverwriteANewerOne() {
    String v = newTable(Views.ACTIVITY_PER_MINUTE);
    Row newer = activity(T0, "purchase", 5, 3, 6495);
    Row stale = activity(T0, "purchase", 3, 2, 3897);
    assertEquals(1, store.apply(Views.ACTIVITY_PER_MINUTE, v, List.of(newer)));
    assertEquals(0, store.apply(Views.ACTIVITY_PER_MINUTE, v, List.of(stale)));
    assertEquals(List.of(newer), store.readAll(Views.ACTIVITY_PER_MINUTE, v));

    // Equal progress: the row already stored stays, as in ViewTable.
    Row sameCount = activity(T0, "purchase", 5, 4, 1);
    assertEquals(0, store.apply(Views.ACTIVITY_PER_MINUTE, v, List.of(sameCount)));
    assertEquals(List.of(newer), store.readAll(Views.ACTIVITY_PER_MINUTE, v));

    Row later = activity(T0, "purchase", 6, 3, 7794);
    assertEquals(1, store.apply(Views.ACTIVITY_PER_MINUTE, v, List.of(stale, later, newer)));
    assertEquals(List.of(later), store.readAll(Views.ACTIVITY_PER_MINUTE, v));
  }

  @Test
  void keyedPanesInAnyOrderAndBatchingGiveTheReferenceView() {
    for (long seed = 1; seed <= 15; seed++) {
      List<Row> panes = TestRows.activityPanes(seed);
      List<Row> expected = reference(Views.ACTIVITY_PER_MINUTE, panes);
      Random random = new Random(seed);
      String v = newTable(Views.ACTIVITY_PER_MINUTE);
      List<Row> applied = new ArrayList<>();
      for (List<Row> batch : TestRows.shuffledBatches(panes, random)) {
        store.apply(Views.ACTIVITY_PER_MINUTE, v, batch);
        applied.addAll(batch);
      }
      assertEquals(expected, reference(Views.ACTIVITY_PER_MINUTE, applied), "seed " + seed);
      assertEquals(expected, store.readAll(Views.ACTIVITY_PER_MINUTE, v), "seed " + seed);
    }
  }

  @Test
  void itemRevenuePanesInAnyOrderGiveTheReferenceView() {
    List<Row> panes = new ArrayList<>();
    for (int p = 1; p <= 4; p++) {
      panes.add(item(T0, "sku-1", p, p * 100L));
      panes.add(item(T0, "sku-2", p * 2L, p * 250L));
      panes.add(item(T0.plus(Views.HOUR), "sku-1", p, p * 100L));
    }
    String v = newTable(Views.ITEM_REVENUE_HOURLY);
    for (List<Row> batch : TestRows.shuffledBatches(panes, new Random(7))) {
      store.apply(Views.ITEM_REVENUE_HOURLY, v, batch);
    }
    assertEquals(
        List.of(
            item(T0, "sku-1", 4, 400),
            item(T0, "sku-2", 8, 1000),
            item(T0.plus(Views.HOUR), "sku-1", 4, 400)),
        store.readAll(Views.ITEM_REVENUE_HOURLY, v));
  }

  // --- session views -----------------------------------------------------------------------------

  @Test
  void mergedSessionSupersedesTheSessionsItContains() {
    String v = newTable(Views.USER_SESSIONS);
    Row first =
        session("u-1", at("2026-11-25T10:00:00.000Z"), at("2026-11-25T10:05:00.000Z"), 2, 0);
    Row second =
        session("u-1", at("2026-11-25T10:40:00.000Z"), at("2026-11-25T10:45:00.000Z"), 1, 1);
    Row otherUser =
        session("u-2", at("2026-11-25T10:00:00.000Z"), at("2026-11-25T10:05:00.000Z"), 1, 0);
    store.apply(Views.USER_SESSIONS, v, List.of(first, second, otherUser));
    assertEquals(List.of(first, second, otherUser), store.readAll(Views.USER_SESSIONS, v));

    // A late event at 10:20 bridges the gap: one session replaces both.
    Row merged =
        session("u-1", at("2026-11-25T10:00:00.000Z"), at("2026-11-25T10:45:00.000Z"), 4, 1);
    assertEquals(1, store.apply(Views.USER_SESSIONS, v, List.of(merged)));
    assertEquals(List.of(merged, otherUser), store.readAll(Views.USER_SESSIONS, v));

    // The superseded panes arriving again (a replay) change nothing.
    assertEquals(0, store.apply(Views.USER_SESSIONS, v, List.of(second, first)));
    assertEquals(List.of(merged, otherUser), store.readAll(Views.USER_SESSIONS, v));
  }

  @Test
  void sessionWithTheSameSpanAndMoreEventsReplacesTheOlderPane() {
    String v = newTable(Views.USER_SESSIONS);
    Instant s = at("2026-11-25T10:00:00.000Z");
    Instant e = at("2026-11-25T10:10:00.000Z");
    Row early = session("u-1", s, e, 2, 0);
    Row full = session("u-1", s, e, 3, 1);
    store.apply(Views.USER_SESSIONS, v, List.of(full));
    assertEquals(0, store.apply(Views.USER_SESSIONS, v, List.of(early)));
    assertEquals(List.of(full), store.readAll(Views.USER_SESSIONS, v));

    String w = newTable(Views.USER_SESSIONS);
    store.apply(Views.USER_SESSIONS, w, List.of(early));
    assertEquals(1, store.apply(Views.USER_SESSIONS, w, List.of(full)));
    assertEquals(List.of(full), store.readAll(Views.USER_SESSIONS, w));
  }

  @Test
  void sessionPanesInAnyOrderAndBatchingGiveTheReferenceView() {
    for (long seed = 1; seed <= 15; seed++) {
      List<Row> panes = TestRows.sessionPanes(seed);
      List<Row> expected = reference(Views.USER_SESSIONS, panes);
      Random random = new Random(seed * 31);
      String v = newTable(Views.USER_SESSIONS);
      List<Row> applied = new ArrayList<>();
      for (List<Row> batch : TestRows.shuffledBatches(panes, random)) {
        store.apply(Views.USER_SESSIONS, v, batch);
        applied.addAll(batch);
      }
      assertEquals(expected, reference(Views.USER_SESSIONS, applied), "seed " + seed);
      assertEquals(expected, store.readAll(Views.USER_SESSIONS, v), "seed " + seed);
      // Everything again, as one batch (a full replay): nothing changes.
      assertEquals(0, store.apply(Views.USER_SESSIONS, v, panes), "seed " + seed);
      assertEquals(expected, store.readAll(Views.USER_SESSIONS, v), "seed " + seed);
    }
  }

  @Test
  void concurrentWritersConvergeToTheReferenceView() throws Exception {
    ViewStore patient = new ViewStore(config().withMaxAttempts(50));
    for (ViewDefinition view : List.of(Views.ACTIVITY_PER_MINUTE, Views.USER_SESSIONS)) {
      List<Row> panes =
          view == Views.USER_SESSIONS ? TestRows.sessionPanes(99) : TestRows.activityPanes(99);
      String v = newTable(view);
      ExecutorService pool = Executors.newFixedThreadPool(4);
      try {
        List<Future<?>> writers = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
          Random random = new Random(1000 + w);
          writers.add(
              pool.submit(
                  () -> {
                    for (List<Row> batch : TestRows.shuffledBatches(panes, random)) {
                      patient.apply(view, v, batch);
                    }
                  }));
        }
        for (Future<?> f : writers) {
          f.get(2, TimeUnit.MINUTES);
        }
      } finally {
        pool.shutdownNow();
      }
      assertEquals(reference(view, panes), store.readAll(view, v), view.name());
    }
  }

  /**
   * Session batches as a streaming sink writes them: thousands of users per batch, so each batch
   * spans every lock range and is applied range by range; two writers at once, each with every
   * user's panes (growing sessions, a merge, a repeat) in its own order and batching.
   */
  @Test
  void largeSessionBatchesFromTwoWritersGiveTheReferenceView() throws Exception {
    List<Row> panes = new ArrayList<>();
    for (int u = 0; u < 1500; u++) {
      String user = "u-" + u;
      Instant start = TestRows.T0.plus(Duration.standardMinutes(u % 50));
      panes.add(TestRows.session(user, start, start.plus(Duration.standardMinutes(30)), 1, 0));
      panes.add(TestRows.session(user, start, start.plus(Duration.standardMinutes(40)), 2, 0));
      Instant later = start.plus(Duration.standardMinutes(75));
      panes.add(TestRows.session(user, later, later.plus(Duration.standardMinutes(30)), 1, 1));
      // a late event bridges the two sessions: one merged session replaces both
      panes.add(TestRows.session(user, start, later.plus(Duration.standardMinutes(30)), 4, 1));
      panes.add(TestRows.session(user, start, start.plus(Duration.standardMinutes(40)), 2, 0));
    }
    String v = newTable(Views.USER_SESSIONS);
    ViewStore patient = new ViewStore(config().withMaxAttempts(50));
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Future<?>> writers = new ArrayList<>();
      for (int w = 0; w < 2; w++) {
        List<Row> mine = new ArrayList<>(panes);
        java.util.Collections.shuffle(mine, new Random(7 + w));
        writers.add(
            pool.submit(
                () -> {
                  for (int from = 0; from < mine.size(); from += 2500) {
                    patient.apply(
                        Views.USER_SESSIONS,
                        v,
                        mine.subList(from, Math.min(mine.size(), from + 2500)));
                  }
                }));
      }
      for (Future<?> f : writers) {
        f.get(3, TimeUnit.MINUTES);
      }
    } finally {
      pool.shutdownNow();
    }
    List<Row> expected = reference(Views.USER_SESSIONS, panes);
    assertEquals(1500, expected.size());
    assertEquals(expected, store.readAll(Views.USER_SESSIONS, v));
  }

  @Test
  void concurrentSessionAndItsMergedSessionNeverBothSurvive() throws Exception {
    // Write skew: one writer inserts a short session while another inserts the merged session
    // that contains it (another key). Each reads the user's sessions before the other commits.
    String v = newTable(Views.USER_SESSIONS);
    ViewStore patient = new ViewStore(config().withMaxAttempts(50));
    int rounds = 100;
    List<Row> all = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      for (int i = 0; i < rounds; i++) {
        String user = "race-" + i;
        Row part =
            session(
                user,
                T0.plus(Duration.standardMinutes(10)),
                T0.plus(Duration.standardMinutes(10)),
                1,
                0);
        Row merged = session(user, T0, T0.plus(Duration.standardMinutes(10)), 2, 0);
        all.add(part);
        all.add(merged);
        CyclicBarrier start = new CyclicBarrier(2);
        Future<?> a =
            pool.submit(
                () -> {
                  start.await();
                  return patient.apply(Views.USER_SESSIONS, v, List.of(part));
                });
        Future<?> b =
            pool.submit(
                () -> {
                  start.await();
                  return patient.apply(Views.USER_SESSIONS, v, List.of(merged));
                });
        a.get(1, TimeUnit.MINUTES);
        b.get(1, TimeUnit.MINUTES);
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(reference(Views.USER_SESSIONS, all), store.readAll(Views.USER_SESSIONS, v));
  }

  // --- values ------------------------------------------------------------------------------------

  @Test
  void timestampsRoundTripToTheMillisecondWhateverTheJvmTimeZone() {
    List<Instant> instants =
        List.of(
            at("2026-11-25T10:00:59.999Z"), // 1 ms before a minute boundary
            at("2026-11-25T10:01:00.000Z"),
            at("2026-11-25T10:01:00.001Z"),
            at("2026-11-25T10:59:59.999Z"),
            at("1970-01-01T00:00:00.000Z"),
            at("1969-12-31T23:59:59.999Z"),
            at("2026-03-29T00:59:59.999Z"), // Europe/Berlin skips 02:00-03:00 local
            at("2026-03-29T01:00:00.000Z"),
            at("2026-10-25T00:30:00.000Z"), // Europe/Berlin has 02:30 local twice
            at("2026-10-25T01:30:00.000Z"),
            at("9999-12-31T23:59:59.000Z"));
    TimeZone jvmZone = TimeZone.getDefault();
    TimeZone.setDefault(TimeZone.getTimeZone("Europe/Berlin"));
    try {
      String v = newTable(Views.USER_SESSIONS);
      List<Row> rows = new ArrayList<>();
      for (int i = 0; i < instants.size(); i++) {
        Instant t = instants.get(i);
        rows.add(session("u-" + i, t, t.plus(Duration.millis(i)), 1, 0));
      }
      store.apply(Views.USER_SESSIONS, v, rows);
      assertEquals(reference(Views.USER_SESSIONS, rows), store.readAll(Views.USER_SESSIONS, v));

      String k = newTable(Views.ACTIVITY_PER_MINUTE);
      List<Row> keyed = new ArrayList<>();
      for (Instant t : instants) {
        keyed.add(activity(t, "view", 1, 1, 0));
      }
      store.apply(Views.ACTIVITY_PER_MINUTE, k, keyed);
      assertEquals(
          reference(Views.ACTIVITY_PER_MINUTE, keyed), store.readAll(Views.ACTIVITY_PER_MINUTE, k));
    } finally {
      TimeZone.setDefault(jvmZone);
    }
  }

  @Test
  void nonAsciiStringsRoundTrip() {
    String v = newTable(Views.ITEM_REVENUE_HOURLY);
    List<Row> rows =
        List.of(
            item(T0, "Grüße", 1, 100),
            item(T0, "日本語の商品", 2, 200),
            item(T0, "emoji 😀 and 𝄞", 3, 300),
            item(T0, "e\u0301 (combining)", 4, 400),
            item(T0, "tab\tquote\"backslash\\", 5, 500),
            item(T0, "", 6, 600));
    store.apply(Views.ITEM_REVENUE_HOURLY, v, rows);
    assertEquals(
        reference(Views.ITEM_REVENUE_HOURLY, rows), store.readAll(Views.ITEM_REVENUE_HOURLY, v));
  }

  // --- export ------------------------------------------------------------------------------------

  private String exportSmallItemTable(ExportFormat format) {
    String v = newTable(Views.ITEM_REVENUE_HOURLY);
    store.apply(
        Views.ITEM_REVENUE_HOURLY,
        v,
        List.of(
            item(at("2026-11-25T11:00:00.000Z"), "sku-42", 1, 1299),
            item(at("2026-11-25T10:00:00.000Z"), "sku-42", 2, 2598),
            item(at("2026-11-25T10:00:00.000Z"), "Grüße, \"Freunde\"", 1, 500),
            item(at("2026-11-25T10:00:00.000Z"), "two\nlines", 3, 30),
            item(at("2026-11-25T10:00:00.000Z"), "日本", 1, 7)));
    StringWriter out = new StringWriter();
    store.export(Views.ITEM_REVENUE_HOURLY, v, format, out);
    return out.toString();
  }

  @Test
  void exportCsvWritesHeaderAndRfc4180RecordsSortedByKey() {
    assertEquals(
        "window_start,item,purchases,revenue_cents\r\n"
            + "2026-11-25T10:00:00.000Z,\"Grüße, \"\"Freunde\"\"\",1,500\r\n"
            + "2026-11-25T10:00:00.000Z,sku-42,2,2598\r\n"
            + "2026-11-25T10:00:00.000Z,\"two\nlines\",3,30\r\n"
            + "2026-11-25T10:00:00.000Z,日本,1,7\r\n"
            + "2026-11-25T11:00:00.000Z,sku-42,1,1299\r\n",
        exportSmallItemTable(ExportFormat.CSV));
  }

  @Test
  void exportJsonlWritesOneObjectPerRowWithKeysInColumnOrder() {
    assertEquals(
        "{\"window_start\":\"2026-11-25T10:00:00.000Z\",\"item\":\"Grüße, \\\"Freunde\\\"\","
            + "\"purchases\":1,\"revenue_cents\":500}\n"
            + "{\"window_start\":\"2026-11-25T10:00:00.000Z\",\"item\":\"sku-42\","
            + "\"purchases\":2,\"revenue_cents\":2598}\n"
            + "{\"window_start\":\"2026-11-25T10:00:00.000Z\",\"item\":\"two\\nlines\","
            + "\"purchases\":3,\"revenue_cents\":30}\n"
            + "{\"window_start\":\"2026-11-25T10:00:00.000Z\",\"item\":\"日本\","
            + "\"purchases\":1,\"revenue_cents\":7}\n"
            + "{\"window_start\":\"2026-11-25T11:00:00.000Z\",\"item\":\"sku-42\","
            + "\"purchases\":1,\"revenue_cents\":1299}\n",
        exportSmallItemTable(ExportFormat.JSONL));
  }

  @Test
  void exportOfSessionsShowsBothTimestampsInUtcWithMilliseconds() {
    String v = newTable(Views.USER_SESSIONS);
    store.apply(
        Views.USER_SESSIONS,
        v,
        List.of(
            session("u-2", at("2026-11-25T10:00:00.000Z"), at("2026-11-25T10:00:59.999Z"), 2, 1),
            session("u-1", at("2026-11-25T09:30:00.123Z"), at("2026-11-25T09:31:00.000Z"), 5, 0)));
    StringWriter out = new StringWriter();
    store.export(Views.USER_SESSIONS, v, ExportFormat.CSV, out);
    assertEquals(
        "user_id,session_start,session_end,events,purchases\r\n"
            + "u-1,2026-11-25T09:30:00.123Z,2026-11-25T09:31:00.000Z,5,0\r\n"
            + "u-2,2026-11-25T10:00:00.000Z,2026-11-25T10:00:59.999Z,2,1\r\n",
        out.toString());
  }

  // --- diff --------------------------------------------------------------------------------------

  @Test
  void diffListsRowsOnlyInEachVersionAndChangedRows() {
    String a = newTable(Views.ACTIVITY_PER_MINUTE);
    String b = newTable(Views.ACTIVITY_PER_MINUTE);
    Instant m0 = at("2026-11-25T10:00:00.000Z");
    Instant m1 = at("2026-11-25T10:01:00.000Z");
    Row same = activity(m0, "click", 4, 2, 0);
    Row onlyA = activity(m0, "view", 3, 2, 0);
    Row onlyB = activity(m1, "cart", 1, 1, 0);
    Row changedA = activity(m1, "purchase", 2, 1, 2598);
    Row changedB = activity(m1, "purchase", 3, 2, 3897);
    store.apply(Views.ACTIVITY_PER_MINUTE, a, List.of(same, onlyA, changedA));
    store.apply(Views.ACTIVITY_PER_MINUTE, b, List.of(changedB, onlyB, same));

    ViewDiff d = store.diff(Views.ACTIVITY_PER_MINUTE, a, b);
    assertEquals(List.of(onlyA), d.onlyInA());
    assertEquals(List.of(onlyB), d.onlyInB());
    assertEquals(
        List.of(new ViewDiff.Changed(List.of(m1, "purchase"), changedA, changedB)), d.changed());
    assertEquals(
        "activity_per_minute: v1 vs v2: 1 only in v1, 1 only in v2, 1 changed\n"
            + "  only in v1: window_start=2026-11-25T10:00:00.000Z, type=\"view\", events=3,"
            + " distinct_users=2, revenue_cents=0\n"
            + "  only in v2: window_start=2026-11-25T10:01:00.000Z, type=\"cart\", events=1,"
            + " distinct_users=1, revenue_cents=0\n"
            + "  changed: window_start=2026-11-25T10:01:00.000Z, type=\"purchase\": events 2 -> 3,"
            + " distinct_users 1 -> 2, revenue_cents 2598 -> 3897\n",
        d.format("v1", "v2"));

    assertTrue(store.diff(Views.ACTIVITY_PER_MINUTE, a, a).isEmpty());
    assertEquals(
        "activity_per_minute: A vs B: no differences\n",
        store.diff(Views.ACTIVITY_PER_MINUTE, b, b).toString());
  }

  @Test
  void diffOfAStoredVersionAgainstTheInMemoryReferenceIsEmpty() {
    List<Row> panes = TestRows.sessionPanes(5);
    String v = newTable(Views.USER_SESSIONS);
    store.apply(Views.USER_SESSIONS, v, panes);
    ViewDiff d =
        ViewDiff.compare(
            Views.USER_SESSIONS,
            store.readAll(Views.USER_SESSIONS, v),
            reference(Views.USER_SESSIONS, panes));
    assertTrue(d.isEmpty(), d::toString);
  }
}
