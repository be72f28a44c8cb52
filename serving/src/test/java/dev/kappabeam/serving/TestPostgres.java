package dev.kappabeam.serving;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

/**
 * The real PostgreSQL server the {@code *PostgresIT} suites run against, named by the environment:
 * {@code KB_TEST_PG_URL}, {@code KB_TEST_PG_USER}, {@code KB_TEST_PG_PASSWORD}. Start a throwaway
 * server and set them with {@code eval "$(serving/src/test/postgres/start-postgres.sh)"}.
 *
 * <p>Without {@code KB_TEST_PG_URL} the tests fail, so CI cannot pass without having run them; set
 * {@code KB_SKIP_POSTGRES=1} (environment or system property) to skip them instead.
 */
final class TestPostgres {
  private TestPostgres() {}

  /** The server's database itself (shared by every test using it). */
  static StoreConfig database() {
    return StoreConfig.of(url(), user(), password());
  }

  /** A new, empty schema {@code <prefix>_<random>}, and a config whose connections use it. */
  static StoreConfig freshSchema(String prefix) {
    String schema = prefix + "_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (Connection c = DriverManager.getConnection(url(), user(), password());
        Statement st = c.createStatement()) {
      st.execute("CREATE SCHEMA " + schema);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create schema " + schema + " at " + url(), e);
    }
    String url = url();
    return StoreConfig.of(
        url + (url.contains("?") ? "&" : "?") + "currentSchema=" + schema, user(), password());
  }

  /** Drops the schema of a {@link #freshSchema} config, with everything in it. */
  static void dropSchema(StoreConfig config) {
    if (config == null) {
      return;
    }
    String url = config.jdbcUrl();
    String schema = url.substring(url.indexOf("currentSchema=") + "currentSchema=".length());
    try (Connection c = config.connect();
        Statement st = c.createStatement()) {
      st.execute("DROP SCHEMA " + schema + " CASCADE");
    } catch (SQLException e) {
      throw new IllegalStateException("cannot drop schema " + schema, e);
    }
  }

  private static String url() {
    String url = System.getenv("KB_TEST_PG_URL");
    if (url == null || url.isBlank()) {
      assumeFalse(
          "1".equals(setting("KB_SKIP_POSTGRES")), "KB_SKIP_POSTGRES=1: PostgreSQL tests skipped");
      fail(
          "KB_TEST_PG_URL is not set, so there is no PostgreSQL to test against. Start one with"
              + " `eval \"$(serving/src/test/postgres/start-postgres.sh)\"` (as root on Debian),"
              + " or set KB_SKIP_POSTGRES=1 to skip these tests.");
    }
    return url;
  }

  private static String user() {
    String u = System.getenv("KB_TEST_PG_USER");
    return u == null ? "" : u;
  }

  private static String password() {
    String p = System.getenv("KB_TEST_PG_PASSWORD");
    return p == null ? "" : p;
  }

  private static String setting(String name) {
    String p = System.getProperty(name);
    return p != null ? p : System.getenv(name);
  }
}
