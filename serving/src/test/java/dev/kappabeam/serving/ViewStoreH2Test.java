package dev.kappabeam.serving;

import java.util.UUID;

/** The serving-store behaviour suite on an in-memory H2 database in PostgreSQL mode. */
class ViewStoreH2Test extends AbstractViewStoreTest {
  private static final String URL =
      "jdbc:h2:mem:kb_"
          + UUID.randomUUID().toString().replace("-", "")
          + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;DB_CLOSE_DELAY=-1";

  @Override
  StoreConfig config() {
    return StoreConfig.of(URL, "sa", "");
  }
}
