package dev.kappabeam.serving;

import java.io.Serializable;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Objects;

/**
 * Where the serving store lives: a JDBC url, user and password, plus how often {@link ViewStore}
 * retries a transaction that the database aborted for a concurrency conflict and how long it rides
 * out a lost connection ({@link #withOutageGrace}).
 *
 * <p>Immutable and serializable, so a Beam sink can carry it to its workers and open the store in
 * {@code @Setup}; it carries a {@link JdbcPassword} reference, read where a connection is opened,
 * so a pipeline built with {@link #of(String, String, JdbcPassword)} never holds the password. The
 * same SQL runs on PostgreSQL ({@code jdbc:postgresql://host:5432/kb}) and on H2 in PostgreSQL mode
 * ({@code jdbc:h2:tcp://localhost:9092/kb;MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE}). {@link
 * #toString()} does not show the password and masks credentials in the URL.
 *
 * <pre>{@code
 * StoreConfig config = StoreConfig.of("jdbc:postgresql://db:5432/kb", "kb", JdbcPassword.fromFile("/run/secrets/db"))
 *     .withMaxAttempts(8);
 * }</pre>
 */
public final class StoreConfig implements Serializable {
  /** Attempts per transaction unless {@link #withMaxAttempts(int)} says otherwise. */
  public static final int DEFAULT_MAX_ATTEMPTS = 5;

  /** The outage grace kb jobs use unless told otherwise ({@code --outage-grace}). */
  public static final Duration DEFAULT_JOB_OUTAGE_GRACE = Duration.ofMinutes(2);

  private final String jdbcUrl;
  private final String user;
  private final JdbcPassword password;
  private final int maxAttempts;
  private final long outageGraceMillis;

  private StoreConfig(
      String jdbcUrl, String user, JdbcPassword password, int maxAttempts, long outageGraceMillis) {
    this.jdbcUrl = jdbcUrl;
    this.user = user;
    this.password = password;
    this.maxAttempts = maxAttempts;
    this.outageGraceMillis = outageGraceMillis;
  }

  /**
   * A store at {@code jdbcUrl}, logging in as {@code user} with {@code password} (either may be
   * empty, e.g. for an H2 database without users; neither may be null).
   */
  public static StoreConfig of(String jdbcUrl, String user, String password) {
    Objects.requireNonNull(password, "password (use \"\" for none)");
    return of(jdbcUrl, user, JdbcPassword.of(password));
  }

  /**
   * A store at {@code jdbcUrl}, logging in as {@code user} with the password read from {@code
   * password} each time a connection is opened (so a sink reads it on its worker).
   */
  public static StoreConfig of(String jdbcUrl, String user, JdbcPassword password) {
    Objects.requireNonNull(jdbcUrl, "jdbcUrl");
    Objects.requireNonNull(user, "user (use \"\" for none)");
    Objects.requireNonNull(password, "password");
    if (!jdbcUrl.startsWith("jdbc:")) {
      throw new IllegalArgumentException(
          "JDBC url must start with jdbc:, e.g. jdbc:postgresql://localhost:5432/kb or"
              + " jdbc:h2:tcp://localhost:9092/kb;MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE; got "
              + JdbcUrls.redact(jdbcUrl));
    }
    return new StoreConfig(jdbcUrl, user, password, DEFAULT_MAX_ATTEMPTS, 0);
  }

  /**
   * How many times a transaction is tried in all when the database aborts it for a serialization
   * failure, a deadlock or a concurrent insert of the same key (at least 1).
   */
  public StoreConfig withMaxAttempts(int attempts) {
    if (attempts < 1) {
      throw new IllegalArgumentException(
          "maxAttempts must be at least 1 (1 = no retry); got " + attempts);
    }
    return new StoreConfig(jdbcUrl, user, password, attempts, outageGraceMillis);
  }

  /**
   * How long an outage of the store is ridden out: a statement that fails because the connection
   * was lost or refused (SQLState class 08, a database shutting down) is retried with jittered
   * exponential backoff (0.1 s doubling to 5 s) until the store answers or the outage has lasted
   * this long; then it fails with {@link StoreOutageException}. Zero (the default) fails at once,
   * which suits short commands; jobs and their controllers use {@code --outage-grace} (default
   * {@link #DEFAULT_JOB_OUTAGE_GRACE}).
   */
  public StoreConfig withOutageGrace(Duration grace) {
    if (grace.isNegative()) {
      throw new IllegalArgumentException(
          "the outage grace must be zero or positive, e.g. PT2M; got " + grace);
    }
    return new StoreConfig(jdbcUrl, user, password, maxAttempts, grace.toMillis());
  }

  /** See {@link #withOutageGrace}. */
  public Duration outageGrace() {
    return Duration.ofMillis(outageGraceMillis);
  }

  public String jdbcUrl() {
    return jdbcUrl;
  }

  public String user() {
    return user;
  }

  /** The password, read now from its source (see {@link #passwordSource()}). */
  public String password() {
    return password.resolve();
  }

  /** Where the password comes from. */
  public JdbcPassword passwordSource() {
    return password;
  }

  /** The URL with its credentials masked, for messages and logs. */
  public String redactedUrl() {
    return JdbcUrls.redact(jdbcUrl);
  }

  public int maxAttempts() {
    return maxAttempts;
  }

  /**
   * Opens a connection. Drivers are looked up with this class's class loader first: DriverManager
   * only serves drivers registered by the caller's loader, and a Flink cluster gives every job a
   * new user-code loader, so later jobs on a TaskManager would find "no suitable driver".
   */
  Connection connect() throws SQLException {
    String secret = password.resolve();
    java.util.Properties props = new java.util.Properties();
    props.put("user", user);
    props.put("password", secret);
    for (java.sql.Driver d :
        java.util.ServiceLoader.load(java.sql.Driver.class, StoreConfig.class.getClassLoader())) {
      if (d.acceptsURL(jdbcUrl)) {
        Connection c = d.connect(jdbcUrl, props);
        if (c != null) {
          return c;
        }
      }
    }
    return DriverManager.getConnection(jdbcUrl, user, secret);
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof StoreConfig)) {
      return false;
    }
    StoreConfig that = (StoreConfig) o;
    return jdbcUrl.equals(that.jdbcUrl)
        && user.equals(that.user)
        && password.equals(that.password)
        && maxAttempts == that.maxAttempts
        && outageGraceMillis == that.outageGraceMillis;
  }

  @Override
  public int hashCode() {
    return Objects.hash(jdbcUrl, user, password, maxAttempts, outageGraceMillis);
  }

  @Override
  public String toString() {
    return "StoreConfig{jdbcUrl="
        + redactedUrl()
        + ", user="
        + user
        + ", password="
        + password
        + ", maxAttempts="
        + maxAttempts
        + ", outageGrace="
        + outageGrace()
        + "}";
  }
}
