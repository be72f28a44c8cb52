package dev.kappabeam.devstack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded serving store keeps every commit: many short client sessions (each like one {@code
 * kb} command: connect, create a table, merge rows, update, record, sometimes drop an older table,
 * disconnect) against the background stack, across {@code kb local down}/{@code up} and across a
 * {@code kill -9} of the stack JVM. H2 2.3.232 with the database closed after each session lost
 * everything after the 4th session once ~200 such sessions had run (issue 16).
 */
class LocalStoreDurabilityIT {
  private static final int SESSIONS = 1_000;
  private static final int ROWS_PER_TABLE = 500;
  private static final int UPDATES_PER_SESSION = 50;
  private static final int CHECK_EVERY = 100;

  @TempDir Path dataDir;

  @AfterEach
  void stopWhateverIsLeft() {
    LocalStackControl.down(dataDir);
  }

  /**
   * Tagged {@code faults} (CI runs it with the fault suite, about a minute): the default suite
   * keeps {@code LocalStoreKbLoopIT}, the same durability at the {@code kb} level.
   */
  @Tag("faults")
  @Test
  void thousandShortSessionsSurviveDownUpAndKill(TestReporter reporter) throws Exception {
    LocalStack.Config config = LocalStack.Config.of(dataDir).withFreePorts();
    Path log = dataDir.resolve("stack.log");
    StackState state = LocalStackControl.up(config, log).state();
    Ledger ledger = new Ledger(new Random(16));

    long started = System.nanoTime();
    for (int session = 0; session < SESSIONS; session++) {
      ledger.runSession(state.jdbcUrl(), session);
      if ((session + 1) % CHECK_EVERY == 0) {
        ledger.assertAllThere(state.jdbcUrl(), "after session " + session);
      }
    }
    reporter.publishEntry(
        "sessionsMillis",
        Long.toString(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)));

    assertEquals(LocalStackControl.DownOutcome.STOPPED, LocalStackControl.down(dataDir).outcome());
    state = LocalStackControl.up(config, log).state();
    ledger.assertAllThere(state.jdbcUrl(), "after kb local down and up");

    // kill -9 while a client commits: every session that returned before the kill is kept.
    String url = state.jdbcUrl();
    AtomicInteger next = new AtomicInteger(SESSIONS);
    CompletableFuture<Void> writer =
        CompletableFuture.runAsync(
            () -> {
              try {
                while (true) {
                  ledger.runSession(url, next.getAndIncrement());
                }
              } catch (SQLException e) {
                // The stack died under the session: expected.
              }
            });
    int committedBeforeKill = SESSIONS + 20;
    LocalStackIT.awaitTrue(() -> ledger.size() >= committedBeforeKill, "20 more sessions");
    ProcessHandle stack = ProcessHandle.of(state.pid()).orElseThrow();
    stack.destroyForcibly();
    stack.onExit().join();
    writer.get(60, TimeUnit.SECONDS);
    reporter.publishEntry("sessionsAcknowledgedBeforeKill", Integer.toString(ledger.size()));

    state = LocalStackControl.up(config, log).state();
    ledger.assertAllThere(state.jdbcUrl(), "after kill -9 and kb local up");
    assertTrue(Files.exists(LocalStack.databaseFile(dataDir)));
  }

  @Test
  void databaseWrittenByH2Version2_3_232OpensWithEveryRow() throws Exception {
    // A kb.mv.db made by H2 2.3.232 (the version before the fix) with kappa-beam's settings:
    // 1,000 rows in legacy_rows and the view legacy_live over the upper half.
    Path baseDir = Files.createDirectories(dataDir.resolve("h2"));
    try (InputStream old = getClass().getResourceAsStream("/h2-2.3.232/kb.mv.db")) {
      Files.copy(old, LocalStack.databaseFile(dataDir));
    }
    for (int open = 0; open < 2; open++) {
      try (ServingDatabase database = ServingDatabase.open(baseDir, 0);
          Connection connection = client(LocalStack.jdbcUrl(database.port()));
          Statement statement = connection.createStatement()) {
        assertEquals(
            List.of(1000L + open, 499_500L + 1000L * open),
            longs(statement, "SELECT COUNT(*), SUM(v) FROM legacy_rows"));
        assertEquals(List.of(500L + open), longs(statement, "SELECT COUNT(*) FROM legacy_live"));
        // Written by the new version, read back after the next open.
        statement.executeUpdate("INSERT INTO legacy_rows VALUES ('new-" + open + "', 1000)");
      }
    }
  }

  private static Connection client(String url) throws SQLException {
    return DriverManager.getConnection(url, LocalStack.JDBC_USER, LocalStack.JDBC_PASSWORD);
  }

  private static List<Long> longs(Statement statement, String sql) throws SQLException {
    List<Long> values = new ArrayList<>();
    try (ResultSet rs = statement.executeQuery(sql)) {
      assertTrue(rs.next(), sql);
      for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
        values.add(rs.getLong(i));
      }
    }
    return values;
  }

  /**
   * What the sessions committed, as the test knows it: a table per session with a checksum, and
   * which tables were dropped. The database records the same in its own ledger table.
   */
  private static final class Ledger {
    private final Random random;
    private final List<long[]> sessions = new ArrayList<>(); // {session, rows, sum, dropped}
    private volatile int dropInFlight = -1; // a drop that a killed session may or may not have made

    Ledger(Random random) {
      this.random = random;
    }

    synchronized int size() {
      return sessions.size();
    }

    /** One short client session; the test records it only once it has committed. */
    void runSession(String url, int session) throws SQLException {
      long sum = 0;
      int dropped = -1;
      try (Connection connection = client(url)) {
        try (Statement ddl = connection.createStatement()) {
          ddl.execute(
              "CREATE TABLE IF NOT EXISTS kb_ledger (session INT PRIMARY KEY, row_count INT NOT"
                  + " NULL, checksum BIGINT NOT NULL, dropped BOOLEAN NOT NULL)");
          ddl.execute("CREATE TABLE " + table(session) + " (k VARCHAR(32) PRIMARY KEY, v BIGINT)");
        }
        connection.setAutoCommit(false);
        try (PreparedStatement merge =
            connection.prepareStatement(
                "MERGE INTO "
                    + table(session)
                    + " t USING (VALUES (CAST(? AS VARCHAR(32)), CAST(? AS BIGINT))) AS s(k, v)"
                    + " ON t.k = s.k WHEN MATCHED THEN UPDATE SET v = s.v"
                    + " WHEN NOT MATCHED THEN INSERT (k, v) VALUES (s.k, s.v)")) {
          for (int row = 0; row < ROWS_PER_TABLE; row++) {
            long value = random.nextInt(1_000_000);
            merge.setString(1, "k-" + row);
            merge.setLong(2, value);
            merge.addBatch();
            sum += value;
          }
          merge.executeBatch();
        }
        connection.commit();
        connection.setAutoCommit(true);
        try (PreparedStatement update =
            connection.prepareStatement(
                "UPDATE " + table(session) + " SET v = v + 1 WHERE k = ?")) {
          for (int i = 0; i < UPDATES_PER_SESSION; i++) {
            update.setString(1, "k-" + random.nextInt(ROWS_PER_TABLE));
            assertEquals(1, update.executeUpdate());
            sum += 1;
          }
        }
        try (PreparedStatement record =
            connection.prepareStatement("INSERT INTO kb_ledger VALUES (?, ?, ?, FALSE)")) {
          record.setInt(1, session);
          record.setInt(2, ROWS_PER_TABLE);
          record.setLong(3, sum);
          record.executeUpdate();
        }
        if (session % 3 == 2) {
          dropped = session - 2;
          dropInFlight = dropped;
          try (Statement ddl = connection.createStatement()) {
            ddl.execute("DROP TABLE IF EXISTS " + table(dropped));
            ddl.executeUpdate("UPDATE kb_ledger SET dropped = TRUE WHERE session = " + dropped);
          }
        }
      }
      synchronized (this) {
        sessions.add(new long[] {session, ROWS_PER_TABLE, sum, 0});
        if (dropped >= 0) {
          for (long[] s : sessions) {
            if (s[0] == dropped) {
              s[3] = 1;
            }
          }
        }
        dropInFlight = -1;
      }
    }

    /**
     * Every session the test saw commit is in the database: its ledger row, and its table with the
     * same rows and checksum, or no table once dropped.
     */
    synchronized void assertAllThere(String url, String when) throws SQLException {
      try (Connection connection = client(url);
          Statement statement = connection.createStatement()) {
        List<String> tables = new ArrayList<>();
        try (ResultSet rs =
            statement.executeQuery(
                "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 't_%'")) {
          while (rs.next()) {
            tables.add(rs.getString(1));
          }
        }
        for (long[] s : sessions) {
          int session = (int) s[0];
          if (session == dropInFlight) {
            continue;
          }
          List<Long> recorded =
              longs(
                  statement,
                  "SELECT COUNT(*), MAX(row_count), MAX(checksum), MAX(CASE WHEN dropped THEN 1"
                      + " ELSE 0 END) FROM kb_ledger WHERE session = "
                      + session);
          assertEquals(
              List.of(1L, s[1], s[2], s[3]), recorded, when + ": ledger row of session " + session);
          if (s[3] == 1) {
            assertFalse(tables.contains(table(session)), when + ": dropped " + table(session));
          } else {
            assertTrue(tables.contains(table(session)), when + ": table " + table(session));
            assertEquals(
                List.of(s[1], s[2]),
                longs(statement, "SELECT COUNT(*), SUM(v) FROM " + table(session)),
                when + ": rows of " + table(session));
          }
        }
      }
    }

    private static String table(int session) {
      return "t_" + session;
    }
  }
}
