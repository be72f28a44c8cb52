package dev.kappabeam.serving;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;

/**
 * The serving store's one way to talk to its database, used by every store class ({@link
 * ViewStore}, {@link ViewRegistry}, {@link LambdaRegistry}, {@link VersionCounters}, {@link
 * ReadProgress}): one cached connection; transactions on it, retried from scratch with jittered
 * exponential backoff when they conflict with a concurrent transaction; statements outside a
 * transaction; creation of tables (retried when another process created them at the same moment). A
 * lost connection is dropped and the work runs again on a new one until the store answers or the
 * outage outlasts {@link StoreConfig#outageGrace()} ({@link StoreOutageException}). Work that
 * committed just before its connection broke may run twice: every caller's work is idempotent
 * (upserts, absolute values, status changes to a fixed state). Thread-safe: calls are serialised.
 */
final class JdbcSession implements AutoCloseable {
  /** Work done on a connection. */
  interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  private final StoreConfig config;
  private final Logger log;
  private final Set<String> retryable;
  private final OutageRetry outage;
  private Connection cached;

  /** A session whose transactions are retried on {@link SqlStates#CONFLICT}. */
  JdbcSession(StoreConfig config, Logger log) {
    this(config, log, SqlStates.CONFLICT);
  }

  /** A session whose transactions are retried on the SQL states {@code retryable}. */
  JdbcSession(StoreConfig config, Logger log, Set<String> retryable) {
    this.config = config;
    this.log = log;
    this.retryable = Set.copyOf(retryable);
    this.outage = new OutageRetry(config.outageGrace(), config.redactedUrl(), log);
  }

  /** {@link #inTransaction(String, int, Work)} at READ COMMITTED. */
  <T> T inTransaction(String what, Work<T> work) {
    return inTransaction(what, Connection.TRANSACTION_READ_COMMITTED, work);
  }

  /**
   * Runs {@code work} in one transaction at {@code isolation}: committed when it returns, rolled
   * back when it throws; run again on a conflict (up to {@link StoreConfig#maxAttempts()} times)
   * and through an outage (see the class comment).
   */
  synchronized <T> T inTransaction(String what, int isolation, Work<T> work) {
    for (int attempt = 1; ; ) {
      try {
        Connection c = connection();
        c.setAutoCommit(false);
        c.setTransactionIsolation(isolation);
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
        if (attempt >= config.maxAttempts() || !SqlStates.any(e, retryable)) {
          throw failure(what + (attempt > 1 ? " (attempt " + attempt + ")" : ""), e);
        }
        log.warn(
            "{}: attempt {} of {} conflicted with a concurrent transaction ({}); retrying",
            what,
            attempt,
            config.maxAttempts(),
            e.getSQLState());
        backOff(attempt);
        attempt++;
      }
    }
  }

  /** Runs {@code work} outside a transaction (auto-commit), through an outage. */
  synchronized <T> T withConnection(String what, Work<T> work) {
    while (true) {
      try {
        Connection c = connection();
        c.setAutoCommit(true);
        T result = AliasReads.retrying(() -> work.run(c));
        outage.succeeded();
        return result;
      } catch (SQLException e) {
        dropConnection();
        if (!outage.retry(what, e)) {
          throw failure(what, e);
        }
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

  private static void backOff(int attempt) {
    long cap = Math.min(1000L, 20L << Math.min(attempt - 1, 10));
    try {
      Thread.sleep(cap / 2 + ThreadLocalRandom.current().nextLong(cap / 2 + 1));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ViewStoreException("interrupted while waiting to retry a transaction", e);
    }
  }

  /** The store's exception for a failed statement: what, where, the database's message. */
  ViewStoreException failure(String what, SQLException e) {
    SQLException detail = e.getNextException() != null ? e.getNextException() : e;
    return new ViewStoreException(
        "cannot "
            + what
            + " at "
            + config.redactedUrl()
            + ": "
            + JdbcUrls.redact(detail.getMessage())
            + " (SQLState "
            + detail.getSQLState()
            + ")",
        e);
  }

  /** Closes the connection held between calls, if any. The session stays usable. */
  @Override
  public synchronized void close() {
    dropConnection();
  }
}
