package dev.kappabeam.serving;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * The serving-store behaviour suite on a real PostgreSQL server, named by the environment: {@code
 * KB_TEST_PG_URL}, {@code KB_TEST_PG_USER}, {@code KB_TEST_PG_PASSWORD}. Start a throwaway server
 * and set them with {@code eval "$(serving/src/test/postgres/start-postgres.sh)"}.
 *
 * <p>Without {@code KB_TEST_PG_URL} the tests fail, so CI cannot pass without having run them; set
 * {@code KB_SKIP_POSTGRES=1} (environment or system property) to skip them instead.
 */
class ViewStorePostgresIT extends AbstractViewStoreTest {

  @Override
  StoreConfig config() {
    String url = System.getenv("KB_TEST_PG_URL");
    if (url == null || url.isBlank()) {
      assumeFalse(
          "1".equals(setting("KB_SKIP_POSTGRES")), "KB_SKIP_POSTGRES=1: PostgreSQL tests skipped");
      fail(
          "KB_TEST_PG_URL is not set, so there is no PostgreSQL to test against. Start one with"
              + " `eval \"$(serving/src/test/postgres/start-postgres.sh)\"` (as root on Debian),"
              + " or set KB_SKIP_POSTGRES=1 to skip these tests.");
    }
    return StoreConfig.of(
        url,
        orEmpty(System.getenv("KB_TEST_PG_USER")),
        orEmpty(System.getenv("KB_TEST_PG_PASSWORD")));
  }

  private static String setting(String name) {
    String p = System.getProperty(name);
    return p != null ? p : System.getenv(name);
  }

  private static String orEmpty(String s) {
    return s == null ? "" : s;
  }
}
