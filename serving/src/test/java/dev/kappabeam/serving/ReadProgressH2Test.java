package dev.kappabeam.serving;

import java.util.UUID;

/** The read-progress suite on in-memory H2 in PostgreSQL mode, one database per test. */
class ReadProgressH2Test extends AbstractReadProgressTest {
  @Override
  StoreConfig freshConfig() {
    return StoreConfig.of(
        "jdbc:h2:mem:kbprog_"
            + UUID.randomUUID().toString().replace("-", "")
            + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;DB_CLOSE_DELAY=-1",
        "sa",
        "");
  }
}
