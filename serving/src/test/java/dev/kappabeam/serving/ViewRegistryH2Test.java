package dev.kappabeam.serving;

import java.util.UUID;

/** The view registry suite on in-memory H2 in PostgreSQL mode, one database per test. */
class ViewRegistryH2Test extends AbstractViewRegistryTest {
  @Override
  StoreConfig freshConfig() {
    return StoreConfig.of(
        "jdbc:h2:mem:kbreg_"
            + UUID.randomUUID().toString().replace("-", "")
            + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;DB_CLOSE_DELAY=-1",
        "sa",
        "");
  }

  @Override
  boolean ddlIsTransactional() {
    return false;
  }
}
