package dev.kappabeam.serving;

import java.sql.SQLException;

/**
 * Reads of a view's alias that ride out H2's one race between DDL and queries. The alias is
 * replaced ({@code CREATE OR REPLACE VIEW}) only when its set of candidate versions changes (a
 * version's first cutover, a drop; see {@link ViewRegistry}); a query that H2 plans at that very
 * moment can fail with {@code General error: "java.util.ConcurrentModificationException"} (error
 * code 50000): H2 does not isolate schema changes from concurrent statements. The same query a few
 * milliseconds later reads the new alias. PostgreSQL never fails so.
 *
 * <pre>{@code
 * List<Row> rows = AliasReads.retrying(() -> query(connection));
 * }</pre>
 */
public final class AliasReads {
  /** Attempts before the race is reported as the read's failure. */
  static final int ATTEMPTS = 5;

  private static final int H2_GENERAL_ERROR = 50000;

  private AliasReads() {}

  /** One read. */
  @FunctionalInterface
  public interface Read<T> {
    T run() throws SQLException;
  }

  /** Runs {@code read}, again (up to {@value #ATTEMPTS} times in all) when it lost the race. */
  public static <T> T retrying(Read<T> read) throws SQLException {
    for (int attempt = 1; ; attempt++) {
      try {
        return read.run();
      } catch (SQLException e) {
        if (attempt >= ATTEMPTS || !lostDdlRace(e)) {
          throw e;
        }
        pause(10L * attempt);
      }
    }
  }

  /** True when {@code e} is H2's failure of a statement planned during a concurrent DDL. */
  public static boolean lostDdlRace(SQLException e) {
    for (SQLException s = e; s != null; s = s.getNextException()) {
      if (s.getErrorCode() == H2_GENERAL_ERROR
          && s.getMessage() != null
          && s.getMessage().contains("java.util.ConcurrentModificationException")) {
        return true;
      }
    }
    return false;
  }

  private static void pause(long millis) throws SQLException {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SQLException("interrupted while retrying a read of an alias", e);
    }
  }
}
