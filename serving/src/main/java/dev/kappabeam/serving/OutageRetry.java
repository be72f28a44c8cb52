package dev.kappabeam.serving;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongSupplier;
import org.slf4j.Logger;

/**
 * Rides out an outage of the serving store for one client ({@link ViewStore}, {@link JdbcSession}):
 * after a lost or refused connection ({@link SqlStates#connectionLost}) the work is tried again
 * with jittered exponential backoff until it succeeds or the outage has lasted {@link
 * StoreConfig#outageGrace()}. One WARN line when an outage starts and one when it ends (with its
 * duration and how many attempts failed), never one per retry; a connection that merely went stale
 * (one failure, then success on a new one) logs nothing.
 *
 * <p>Not thread-safe: its owner calls it while holding its own lock. The clock and the sleep are
 * parameters so that the policy is tested without waiting.
 */
final class OutageRetry {
  /** The first delay; each further one doubles, up to {@link #MAX_DELAY_MILLIS}. */
  static final long INITIAL_DELAY_MILLIS = 100;

  /** No delay is longer than this, so the store is probed at least this often during an outage. */
  static final long MAX_DELAY_MILLIS = 5_000;

  /** Sleeps; {@link Thread#sleep} in production. */
  interface Sleeper {
    void sleep(long millis) throws InterruptedException;
  }

  private final long graceNanos;
  private final String where;
  private final Logger log;
  private final LongSupplier nanoClock;
  private final Sleeper sleeper;
  private long outageStart;
  private int failures;

  OutageRetry(Duration grace, String where, Logger log) {
    this(grace, where, log, System::nanoTime, Thread::sleep);
  }

  OutageRetry(Duration grace, String where, Logger log, LongSupplier nanoClock, Sleeper sleeper) {
    this.graceNanos = grace.toNanos();
    this.where = where;
    this.log = log;
    this.nanoClock = nanoClock;
    this.sleeper = sleeper;
  }

  /**
   * The wait before retry {@code retry} (1 for the first): half of min(cap, initial × 2^(retry-1))
   * plus a uniformly random part of the other half ({@code random} in [0, 1)), so that many clients
   * that lost the store at once do not come back in step.
   */
  static long delayMillis(int retry, double random) {
    long ceiling = Math.min(MAX_DELAY_MILLIS, INITIAL_DELAY_MILLIS << Math.min(retry - 1, 20));
    return ceiling / 2 + (long) (random * (ceiling - ceiling / 2));
  }

  /** Whether an outage is in progress (a connection failure not yet followed by a success). */
  boolean inOutage() {
    return failures > 0;
  }

  /**
   * After {@code what} failed with {@code e}: if the connection was lost and the outage is within
   * the grace, waits (at most until the grace ends) and returns true to try again; otherwise
   * returns false and the caller fails with its own message. The first failure is retried at once
   * and silently whatever the grace: a connection held between calls may simply have gone stale
   * (the database restarted since). A failure that is not a lost connection ends nothing: the store
   * answered.
   *
   * @throws StoreOutageException when an outage has outlasted a grace above zero
   */
  boolean retry(String what, Exception e) {
    if (!SqlStates.connectionLost(e)) {
      succeeded(); // the store answered, if only to refuse
      return false;
    }
    long now = nanoClock.getAsLong();
    failures++;
    if (failures == 1) {
      outageStart = now;
      return true;
    }
    if (graceNanos == 0) {
      failures = 0;
      return false;
    }
    if (failures == 2) {
      log.warn(
          "Serving store at {} unreachable ({}: {}); retrying with backoff for up to {}",
          where,
          what,
          JdbcUrls.redact(String.valueOf(e.getMessage())),
          format(Duration.ofNanos(graceNanos)));
    }
    long left = outageStart + graceNanos - now;
    if (left <= 0) {
      Duration lasted = Duration.ofNanos(now - outageStart);
      int attempts = failures;
      failures = 0;
      throw new StoreOutageException(
          "the serving store at "
              + where
              + " was unreachable for "
              + format(lasted)
              + " ("
              + attempts
              + " attempts), beyond the outage grace of "
              + format(Duration.ofNanos(graceNanos))
              + ": cannot "
              + what
              + ": "
              + JdbcUrls.redact(String.valueOf(e.getMessage())),
          e);
    }
    long wait =
        Math.min(
            delayMillis(failures - 1, ThreadLocalRandom.current().nextDouble()),
            Math.max(1, left / 1_000_000));
    try {
      sleeper.sleep(wait);
    } catch (InterruptedException interrupted) {
      Thread.currentThread().interrupt();
      throw new StoreOutageException(
          "interrupted while waiting for the serving store at " + where + " to come back", e);
    }
    return true;
  }

  /** After a success: ends the outage in progress, if any, with one WARN line. */
  void succeeded() {
    if (failures > 1) {
      log.warn(
          "Serving store at {} reachable again after {} ({} failed attempts)",
          where,
          format(Duration.ofNanos(nanoClock.getAsLong() - outageStart)),
          failures);
    }
    failures = 0;
  }

  /** PT8.214S as 8.2 s. */
  static String format(Duration d) {
    return String.format(java.util.Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
  }
}
