package dev.kappabeam.serving;

import static dev.kappabeam.serving.TestRows.T0;
import static dev.kappabeam.serving.TestRows.activity;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.serving.RegisteredVersion.Status;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.Views;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.beam.sdk.values.Row;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The view registry and its live alias on a real database: H2 ({@link ViewRegistryH2Test}) and
 * PostgreSQL ({@link ViewRegistryPostgresIT}). Each test gets a database (H2) or schema
 * (PostgreSQL) of its own, since the alias is named after the view.
 */
abstract class AbstractViewRegistryTest {
  static final ViewDefinition VIEW = Views.ACTIVITY_PER_MINUTE;

  /** A fresh, empty database or schema for one test. */
  abstract StoreConfig freshConfig();

  /** Removes what {@link #freshConfig()} made. */
  void cleanUp(StoreConfig config) {}

  /** Whether a DDL statement stays inside an open transaction (PostgreSQL) or commits it (H2). */
  abstract boolean ddlIsTransactional();

  StoreConfig config;
  ViewStore store;
  ViewRegistry registry;

  @BeforeEach
  void open() {
    config = freshConfig();
    store = new ViewStore(config);
    registry = new ViewRegistry(config);
  }

  @AfterEach
  void close() {
    if (config == null) {
      return; // skipped before it opened anything (no PostgreSQL)
    }
    registry.close();
    store.close();
    cleanUp(config);
  }

  static RegisteredVersion newVersion(String version, String parameters) {
    return RegisteredVersion.building(
        VIEW.name(),
        version,
        "events",
        "kappa-beam.events." + version,
        "earliest",
        "DirectRunner",
        parameters,
        "dev+abc",
        CodeVersion.fingerprint(VIEW.name(), parameters, "dev+abc"),
        "--session-gap=PT30M");
  }

  /** A version table whose rows all carry the marker type {@code m_<version>}. */
  void buildTable(String version, int rows, long eventsPerRow) {
    registry.register(newVersion(version, "p-" + version));
    store.createTable(VIEW, version);
    List<Row> batch = new ArrayList<>();
    for (int i = 0; i < rows; i++) {
      batch.add(
          activity(
              T0.plus(org.joda.time.Duration.standardMinutes(i)),
              "m_" + version,
              eventsPerRow,
              1,
              0));
    }
    store.apply(VIEW, version, batch);
  }

  @Test
  void aVersionGoesFromBuildingToLiveToRetiredAndTheAliasFollows() {
    buildTable("v1", 3, 1);
    RegisteredVersion v1 = registry.get(VIEW.name(), "v1").orElseThrow();
    assertEquals(Status.BUILDING, v1.status());
    assertNotNull(v1.createdAt());
    assertTrue(registry.live(VIEW.name()).isEmpty());
    assertThrows(ViewStoreException.class, () -> store.readLive(VIEW), "no alias before a cutover");

    ViewRegistry.Switch first = registry.cutover(VIEW, "v1");
    assertEquals("v1", first.live());
    assertNull(first.previous());
    assertEquals(store.readAll(VIEW, "v1"), store.readLive(VIEW));
    assertEquals(Status.LIVE, registry.get(VIEW.name(), "v1").orElseThrow().status());

    buildTable("v2", 5, 2);
    assertEquals(store.readAll(VIEW, "v1"), store.readLive(VIEW), "building v2 is not served");
    ViewRegistry.Switch second = registry.cutover(VIEW, "v2");
    assertEquals("v1", second.previous());
    assertEquals(store.readAll(VIEW, "v2"), store.readLive(VIEW));
    RegisteredVersion retired = registry.get(VIEW.name(), "v1").orElseThrow();
    assertEquals(Status.RETIRED, retired.status());
    assertNotNull(retired.retiredAt());
    RegisteredVersion live = registry.get(VIEW.name(), "v2").orElseThrow();
    assertEquals(second.at(), live.switchedAt());

    ViewRegistry.Switch back = registry.rollback(VIEW);
    assertEquals("v1", back.live());
    assertEquals(store.readAll(VIEW, "v1"), store.readLive(VIEW));
    assertEquals(Status.RETIRED, registry.get(VIEW.name(), "v2").orElseThrow().status());

    // Cutting over to the live version changes nothing.
    assertNull(registry.cutover(VIEW, "v1").at());
    registry.cutover(VIEW, "v2");
    assertEquals(store.readAll(VIEW, "v2"), store.readLive(VIEW));
  }

  @Test
  void onlyRetiredVersionsCanBeDroppedAndTheAliasKeepsServing() {
    buildTable("v1", 3, 1);
    buildTable("v2", 4, 1);
    registry.cutover(VIEW, "v1");
    RegistryException live =
        assertThrows(RegistryException.class, () -> registry.prepareDrop(VIEW, "v1", false));
    assertTrue(live.getMessage().contains("only retired versions"), live.getMessage());
    assertThrows(RegistryException.class, () -> registry.prepareDrop(VIEW, "v2", false));

    registry.cutover(VIEW, "v2");
    registry.prepareDrop(VIEW, "v1", false);
    assertTrue(store.dropTable(VIEW, "v1"), "the alias no longer reads v1's table");
    registry.markDropped(VIEW.name(), "v1");
    assertEquals(store.readAll(VIEW, "v2"), store.readLive(VIEW));
    RegisteredVersion dropped = registry.get(VIEW.name(), "v1").orElseThrow();
    assertEquals(Status.DROPPED, dropped.status());
    assertNotNull(dropped.droppedAt());
    RegistryException noRollback =
        assertThrows(RegistryException.class, () -> registry.rollback(VIEW));
    assertTrue(noRollback.getMessage().contains("dropped"), noRollback.getMessage());
    assertThrows(RegistryException.class, () -> registry.cutover(VIEW, "v1"));

    // A dropped version can be registered again; a registered one cannot.
    assertThrows(RegistryException.class, () -> registry.register(newVersion("v2", "p")));
    assertEquals(Status.BUILDING, registry.register(newVersion("v1", "p")).status());
  }

  @Test
  void heartbeatsTellARunningJobFromADeadOne() {
    buildTable("v1", 1, 1);
    RegisteredVersion v1 = registry.get(VIEW.name(), "v1").orElseThrow();
    registry.jobStarted(List.of(v1), "DirectRunner", "direct-1", "host-a", 4242);
    RegisteredVersion started = registry.get(VIEW.name(), "v1").orElseThrow();
    assertEquals("direct-1", started.jobId());
    assertEquals(4242L, started.jobPid());
    Instant now = Instant.now();
    assertTrue(started.jobAlive(now, Duration.ofSeconds(30)));
    assertFalse(started.jobAlive(now.plusSeconds(31), Duration.ofSeconds(30)), "stale heartbeat");

    List<RegisteredVersion> beat = registry.heartbeat("direct-1");
    assertEquals(1, beat.size());
    assertFalse(beat.get(0).heartbeatAt().isBefore(started.heartbeatAt()));

    registry.caughtUp(VIEW.name(), "v1", Instant.ofEpochMilli(1000));
    registry.caughtUp(VIEW.name(), "v1", Instant.ofEpochMilli(2000));
    assertEquals(
        Instant.ofEpochMilli(1000),
        registry.get(VIEW.name(), "v1").orElseThrow().caughtUpAt(),
        "the first catch-up time stays");

    registry.jobEnded("direct-1", RegisteredVersion.STOPPED);
    assertFalse(registry.get(VIEW.name(), "v1").orElseThrow().jobAlive(now, Duration.ofDays(1)));
    assertEquals(null, registry.get(VIEW.name(), "v1").orElseThrow().jobError());

    // A failed job keeps its cause until the version's next job starts.
    registry.jobEnded("direct-1", RegisteredVersion.FAILED, "the serving store was unreachable");
    RegisteredVersion failed = registry.get(VIEW.name(), "v1").orElseThrow();
    assertEquals(RegisteredVersion.FAILED, failed.jobState());
    assertEquals("the serving store was unreachable", failed.jobError());
    registry.jobStarted(List.of(failed), "DirectRunner", "direct-2", "host-a", 4243);
    assertEquals(null, registry.get(VIEW.name(), "v1").orElseThrow().jobError());
  }

  /**
   * Why the alias is switched by a pointer row rather than by {@code CREATE OR REPLACE VIEW} in the
   * registry's transaction: on H2 the DDL commits the open transaction (so an UPDATE before it
   * survives a rollback), on PostgreSQL it does not.
   */
  @Test
  void ddlInsideATransactionIsTransactionalOnlyWhereExpected() throws SQLException {
    buildTable("v1", 1, 1);
    registry.cutover(VIEW, "v1");
    try (Connection c = config.connect()) {
      c.setAutoCommit(false);
      try (Statement st = c.createStatement()) {
        st.executeUpdate(
            "UPDATE \"kb_view_versions\" SET \"job_state\" = 'probe' WHERE \"version\" = 'v1'");
        st.execute(ViewRegistry.aliasSql(VIEW, List.of("v1")));
      }
      c.rollback();
    }
    String state = registry.get(VIEW.name(), "v1").orElseThrow().jobState();
    if (ddlIsTransactional()) {
      assertNull(state, "PostgreSQL rolls back the UPDATE together with the DDL");
    } else {
      assertEquals("probe", state, "H2 committed the UPDATE when the DDL ran");
    }
  }

  /**
   * Item 3 of the reprocessing issue: readers query the alias continuously while it is switched
   * back and forth (cutover, rollback, and alias repairs in between); every read must be entirely
   * one version: the marker types it sees are one version's, and its row count and event sum are
   * exactly that version's.
   */
  @Test
  void readersNeverSeeAMixedOrHalfBuiltView() throws Exception {
    int rows1 = 3000;
    int rows2 = 2000;
    buildTable("v1", rows1, 1);
    buildTable("v2", rows2, 3);
    registry.cutover(VIEW, "v1");
    Map<String, long[]> expected =
        Map.of("m_v1", new long[] {rows1, rows1}, "m_v2", new long[] {rows2, 3L * rows2});
    AtomicBoolean stop = new AtomicBoolean();
    AtomicReference<String> violation = new AtomicReference<>();
    AtomicLong reads = new AtomicLong();
    Map<String, AtomicLong> seen = new ConcurrentHashMap<>();
    List<Thread> readers = new ArrayList<>();
    for (int r = 0; r < 2; r++) {
      Thread t =
          new Thread(
              () -> {
                try (Connection c = config.connect();
                    Statement st = c.createStatement()) {
                  while (!stop.get()) {
                    try (ResultSet rs =
                        st.executeQuery(
                            "SELECT COUNT(*), SUM(\"events\"), MIN(\"type\"), MAX(\"type\") FROM"
                                + " \"activity_per_minute\"")) {
                      rs.next();
                      long count = rs.getLong(1);
                      long sum = rs.getLong(2);
                      String min = rs.getString(3);
                      String max = rs.getString(4);
                      long[] want = expected.get(min);
                      if (min == null || !min.equals(max) || want == null) {
                        violation.compareAndSet(
                            null, "a read saw versions " + min + ".." + max + " (" + count + ")");
                      } else if (count != want[0] || sum != want[1]) {
                        violation.compareAndSet(
                            null,
                            "a read of "
                                + min
                                + " saw "
                                + count
                                + " rows / "
                                + sum
                                + " events, expected "
                                + want[0]
                                + " / "
                                + want[1]);
                      } else {
                        seen.computeIfAbsent(min, k -> new AtomicLong()).incrementAndGet();
                      }
                      reads.incrementAndGet();
                    }
                  }
                } catch (SQLException e) {
                  violation.compareAndSet(null, "a read failed: " + e);
                }
              });
      t.start();
      readers.add(t);
    }
    int switches = 0;
    long deadline = System.nanoTime() + 8_000_000_000L;
    while (System.nanoTime() < deadline && violation.get() == null) {
      registry.cutover(VIEW, "v2");
      registry.coverVersions(VIEW, java.util.Set.of());
      registry.rollback(VIEW);
      switches += 2;
    }
    stop.set(true);
    for (Thread t : readers) {
      t.join(30_000);
    }
    assertNull(violation.get(), violation.get() + " after " + reads.get() + " reads");
    assertTrue(switches >= 10, "only " + switches + " switches");
    assertTrue(
        seen.getOrDefault("m_v1", new AtomicLong()).get() > 0
            && seen.getOrDefault("m_v2", new AtomicLong()).get() > 0,
        "readers must have seen both versions: " + new TreeMap<>(seen));
  }
}
