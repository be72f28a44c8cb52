package dev.kappabeam.serving;

import java.util.UUID;

/** The per-version counters suite on in-memory H2 in PostgreSQL mode, one database per test. */
class VersionCountersH2Test extends AbstractVersionCountersTest {
  @Override
  StoreConfig freshConfig() {
    return StoreConfig.of(
        "jdbc:h2:mem:kbcnt_"
            + UUID.randomUUID().toString().replace("-", "")
            + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;DB_CLOSE_DELAY=-1",
        "sa",
        "");
  }
}
