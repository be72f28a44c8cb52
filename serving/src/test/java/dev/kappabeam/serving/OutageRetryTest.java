package dev.kappabeam.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ConnectException;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.helpers.MessageFormatter;

/** The outage policy: which failures are ridden out, the backoff, the grace and the log lines. */
class OutageRetryTest {
  private static final SQLException H2_BROKEN =
      new SQLException("Connection is broken: \"java.net.ConnectException: refused\"", "90067");

  @Test
  void connectionFailuresOfBothDriversAreOutages() {
    assertTrue(SqlStates.connectionLost(H2_BROKEN), "H2 connection is broken / refused");
    assertTrue(SqlStates.connectionLost(new SQLException("database closed", "90098")));
    assertTrue(SqlStates.connectionLost(new SQLException("called at shutdown", "90121")));
    assertTrue(SqlStates.connectionLost(new SQLException("Connection refused", "08001")));
    assertTrue(SqlStates.connectionLost(new SQLException("I/O error", "08006")));
    assertTrue(SqlStates.connectionLost(new SQLException("connection does not exist", "08003")));
    assertTrue(SqlStates.connectionLost(new SQLException("admin shutdown", "57P01")));
    assertTrue(SqlStates.connectionLost(new SQLException("crash shutdown", "57P02")));
    assertTrue(SqlStates.connectionLost(new SQLException("cannot connect now", "57P03")));
    assertTrue(SqlStates.connectionLost(new SQLTransientConnectionException("pool", "XX000")));
    assertTrue(SqlStates.connectionLost(new SQLNonTransientConnectionException("gone")));
    assertTrue(
        SqlStates.connectionLost(new SQLException("no state", null, new ConnectException("x"))),
        "a socket error under a driver's exception");
    SQLException batch = new SQLException("batch failed", "XX000");
    batch.setNextException(new SQLException("terminating connection", "57P01"));
    assertTrue(SqlStates.connectionLost(batch), "a batch's chained exception");
    assertTrue(
        SqlStates.connectionLost(new ViewStoreException("cannot apply", H2_BROKEN)),
        "wrapped by the store");
  }

  @Test
  void statementErrorsAndConflictsAreNotOutages() {
    for (String state : List.of("23505", "40001", "40P01", "42P01", "42102", "54000", "28P01")) {
      assertFalse(SqlStates.connectionLost(new SQLException("x", state)), state);
    }
    assertFalse(SqlStates.connectionLost(new SQLException("no state")));
    assertFalse(SqlStates.connectionLost(new IllegalStateException("bug")));
  }

  @Test
  void backoffDoublesFromATenthOfASecondUpToFiveSecondsWithJitterInTheUpperHalf() {
    assertEquals(50, OutageRetry.delayMillis(1, 0.0));
    assertEquals(99, OutageRetry.delayMillis(1, 0.999));
    assertEquals(100, OutageRetry.delayMillis(2, 0.0));
    assertEquals(200, OutageRetry.delayMillis(3, 0.0));
    assertEquals(2_500, OutageRetry.delayMillis(7, 0.0), "6.4 s is capped at 5 s");
    assertEquals(2_500, OutageRetry.delayMillis(1_000, 0.0), "no overflow on long outages");
    assertEquals(4_999, OutageRetry.delayMillis(1_000, 0.9999));
    for (int retry = 1; retry < 40; retry++) {
      long low = OutageRetry.delayMillis(retry, 0.0);
      long high = OutageRetry.delayMillis(retry, 0.99999);
      assertTrue(low <= high && high <= OutageRetry.MAX_DELAY_MILLIS, "retry " + retry);
    }
  }

  @Test
  void anOutageWithinTheGraceIsRetriedAndLoggedOnceAtStartAndOnceAtEnd() {
    Clock clock = new Clock();
    RecordingLogger log = new RecordingLogger();
    OutageRetry retry =
        new OutageRetry(
            Duration.ofSeconds(20), "jdbc:h2:tcp://x/kb", log.logger, clock::nanos, clock);
    int retries = 0;
    while (clock.nanos() < Duration.ofSeconds(8).toNanos()) {
      assertTrue(retry.retry("apply 3 rows", H2_BROKEN), "within the grace");
      retries++;
    }
    assertTrue(retry.inOutage());
    // The last wait (jittered, up to 5 s) ends anywhere from 8 to 13 s into the outage.
    String lasted = OutageRetry.format(Duration.ofNanos(clock.nanos()));
    retry.succeeded();
    assertFalse(retry.inOutage());
    assertTrue(retries > 5, "retried " + retries + " times");
    assertEquals(2, log.warnings.size(), "one line at the start, one at the end: " + log.warnings);
    assertTrue(log.warnings.get(0).contains("unreachable"), log.warnings.get(0));
    assertTrue(log.warnings.get(0).contains("up to 20.0 s"), log.warnings.get(0));
    assertTrue(
        log.warnings.get(1).contains("reachable again after " + lasted), log.warnings.get(1));
    assertTrue(clock.longestSleep <= OutageRetry.MAX_DELAY_MILLIS);
    retry.succeeded();
    assertEquals(2, log.warnings.size(), "a success outside an outage logs nothing");
  }

  @Test
  void aStaleConnectionIsReplacedAtOnceWithoutAWarning() {
    Clock clock = new Clock();
    RecordingLogger log = new RecordingLogger();
    for (Duration grace : List.of(Duration.ZERO, Duration.ofMinutes(2))) {
      OutageRetry retry = new OutageRetry(grace, "x", log.logger, clock::nanos, clock);
      assertTrue(retry.retry("heartbeat", H2_BROKEN), "one new connection, grace " + grace);
      retry.succeeded();
    }
    assertEquals(0, clock.nanos(), "no wait");
    assertEquals(List.of(), log.warnings, "no outage to report");
  }

  @Test
  void anOutageBeyondTheGraceFailsWithTheCauseAndTheNextOneStartsAfresh() {
    Clock clock = new Clock();
    RecordingLogger log = new RecordingLogger();
    OutageRetry retry =
        new OutageRetry(
            Duration.ofSeconds(20), "jdbc:h2:tcp://x/kb", log.logger, clock::nanos, clock);
    StoreOutageException e =
        assertThrows(
            StoreOutageException.class,
            () -> {
              while (true) {
                retry.retry("heartbeat of job direct-1", H2_BROKEN);
              }
            });
    long waited = clock.nanos();
    assertTrue(
        waited >= Duration.ofSeconds(20).toNanos() && waited < Duration.ofSeconds(21).toNanos(),
        "gives up right at the grace, not a backoff later: " + Duration.ofNanos(waited));
    assertTrue(e.getMessage().contains("beyond the outage grace of 20.0 s"), e.getMessage());
    assertTrue(e.getMessage().contains("heartbeat of job direct-1"), e.getMessage());
    assertTrue(e.getMessage().contains("Connection is broken"), e.getMessage());
    assertTrue(e instanceof ViewStoreException, "the store's exception type");
    assertFalse(retry.inOutage());
    assertTrue(retry.retry("again", H2_BROKEN), "a later outage has its own grace");
  }

  @Test
  void aZeroGraceGivesUpAfterTheNewConnectionAndOtherErrorsAreNotRetried() {
    Clock clock = new Clock();
    RecordingLogger log = new RecordingLogger();
    OutageRetry none = new OutageRetry(Duration.ZERO, "x", log.logger, clock::nanos, clock);
    assertTrue(none.retry("read", H2_BROKEN), "a new connection first");
    assertFalse(none.retry("read", H2_BROKEN), "then the caller fails with its own message");
    assertEquals(0, clock.nanos(), "no wait");
    assertEquals(List.of(), log.warnings, "nothing to ride out, nothing logged");
    OutageRetry grace =
        new OutageRetry(Duration.ofMinutes(2), "x", log.logger, clock::nanos, clock);
    assertFalse(grace.retry("apply", new SQLException("duplicate key", "23505")));
  }

  /** A clock that the sleeps advance. */
  private static final class Clock implements OutageRetry.Sleeper {
    private final AtomicLong nanos = new AtomicLong();
    long longestSleep;

    long nanos() {
      return nanos.get();
    }

    @Override
    public void sleep(long millis) {
      longestSleep = Math.max(longestSleep, millis);
      nanos.addAndGet(Duration.ofMillis(millis).toNanos());
    }
  }

  /** Keeps the WARN lines, formatted; ignores everything else. */
  private static final class RecordingLogger {
    final List<String> warnings = new ArrayList<>();
    final Logger logger =
        (Logger)
            java.lang.reflect.Proxy.newProxyInstance(
                Logger.class.getClassLoader(),
                new Class<?>[] {Logger.class},
                (proxy, method, args) -> {
                  if (method.getName().equals("warn") && args != null) {
                    Object[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
                    if (rest.length == 1 && rest[0] instanceof Object[] varargs) {
                      rest = varargs;
                    }
                    warnings.add(MessageFormatter.arrayFormat((String) args[0], rest).getMessage());
                  }
                  return method.getReturnType() == boolean.class ? Boolean.TRUE : null;
                });
  }
}
