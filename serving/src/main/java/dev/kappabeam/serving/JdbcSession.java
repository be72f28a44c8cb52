package dev.kappabeam.serving;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One cached JDBC connection to the serving store, shared by the registry classes: transactions on
 * it (retried on conflicts with concurrent writers, and through an outage of the store for up to
 * {@link StoreConfig#outageGrace()}), and creation of their own tables (retried when another
 * process created them at the same moment). A failed connection is dropped and reopened on the next
 * call. Thread-safe: calls are serialised.
 */
final class JdbcSession implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(JdbcSession.class);

  /** Work done on a connection. */
  interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  private final StoreConfig config;
  private final OutageRetry outage;
  private Connection cached;

  JdbcSession(StoreConfig config) {
    this.config = config;
    this.outage = new OutageRetry(config.outageGrace(), config.redactedUrl(), LOG);
  }

  /**
   * Runs {@code work} in one READ COMMITTED transaction: committed when it returns, rolled back
   * when it throws. A conflict with a concurrent transaction ({@link SqlStates#CONFLICT}) runs it
   * again, up to {@link StoreConfig#maxAttempts()} times; a lost connection runs it again on a new
   * one until the store answers or the outage outlasts the grace ({@link StoreOutageException}).
   * Work that committed just before its connection broke may run twice: every caller's work is
   * idempotent (upserts, absolute values, status changes to a fixed state).
   */
  synchronized <T> T inTransaction(String what, Work<T> work) {
    for (int attempt = 1; ; ) {
      try {
        Connection c = connection();
        c.setAutoCommit(false);
        c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
        try {
          T result = work.run(c);
          c.commit();
          outage.succeeded();
          return result;
        } catch (SQLException | RuntimeException e) {
          try {
            c.rollback();
          } catch (SQLException rollbackFailed) {
            e.addSuppressed(rollbackFailed);
          }
          throw e;
        }
      } catch (SQLException e) {
        dropConnection();
        if (outage.retry(what, e)) {
          continue;
        }
        if (attempt < config.maxAttempts() && SqlStates.any(e, SqlStates.CONFLICT)) {
          attempt++;
          continue;
        }
        throw failure(what, e);
      }
    }
  }

  /**
   * Runs {@code CREATE ... IF NOT EXISTS} statements outside a transaction; if another process
   * created the same table at the same moment ({@link SqlStates#CONCURRENT_CREATE}), tries again.
   */
  synchronized void create(String what, String... statements) {
    for (int attempt = 1; ; ) {
      try {
        Connection c = connection();
        c.setAutoCommit(true);
        try (Statement st = c.createStatement()) {
          for (String sql : statements) {
            st.execute(sql);
          }
        }
        outage.succeeded();
        return;
      } catch (SQLException e) {
        dropConnection();
        if (outage.retry("create " + what, e)) {
          continue;
        }
        if (attempt >= 3 || !SqlStates.any(e, SqlStates.CONCURRENT_CREATE)) {
          throw failure("create " + what, e);
        }
        attempt++;
      }
    }
  }

  private Connection connection() throws SQLException {
    if (cached == null || cached.isClosed()) {
      cached = config.connect();
    }
    return cached;
  }

  private void dropConnection() {
    if (cached != null) {
      try {
        cached.close();
      } catch (SQLException e) {
        // Broken already; the next call opens a new one.
      }
      cached = null;
    }
  }

  /** The store's exception for a failed statement: what, where, the database's message. */
  ViewStoreException failure(String what, SQLException e) {
    return new ViewStoreException(
        "cannot "
            + what
            + " at "
            + config.redactedUrl()
            + ": "
            + JdbcUrls.redact(e.getMessage())
            + " (SQLState "
            + e.getSQLState()
            + ")",
        e);
  }

  @Override
  public synchronized void close() {
    dropConnection();
  }
}
