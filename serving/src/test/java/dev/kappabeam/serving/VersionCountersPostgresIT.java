package dev.kappabeam.serving;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

/**
 * The per-version counters suite on a real PostgreSQL server ({@code KB_TEST_PG_URL}, {@code
 * KB_TEST_PG_USER}, {@code KB_TEST_PG_PASSWORD}; see {@link ViewStorePostgresIT}), one schema per
 * test. {@code KB_SKIP_POSTGRES=1} skips it.
 */
class VersionCountersPostgresIT extends AbstractVersionCountersTest {
  private String schema;

  @Override
  StoreConfig freshConfig() {
    String url = System.getenv("KB_TEST_PG_URL");
    if (url == null || url.isBlank()) {
      assumeFalse(
          "1".equals(setting("KB_SKIP_POSTGRES")), "KB_SKIP_POSTGRES=1: PostgreSQL tests skipped");
      fail(
          "KB_TEST_PG_URL is not set. Start PostgreSQL with"
              + " `eval \"$(serving/src/test/postgres/start-postgres.sh)\"`, or set"
              + " KB_SKIP_POSTGRES=1 to skip these tests.");
    }
    schema = "kbcnt_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    try (Connection c = DriverManager.getConnection(url, user(), password());
        Statement st = c.createStatement()) {
      st.execute("CREATE SCHEMA " + schema);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create schema " + schema + " at " + url, e);
    }
    return StoreConfig.of(
        url + (url.contains("?") ? "&" : "?") + "currentSchema=" + schema, user(), password());
  }

  @Override
  void cleanUp(StoreConfig config) {
    if (schema == null) {
      return;
    }
    try (Connection c = config.connect();
        Statement st = c.createStatement()) {
      st.execute("DROP SCHEMA " + schema + " CASCADE");
    } catch (SQLException e) {
      throw new IllegalStateException("cannot drop schema " + schema, e);
    }
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
