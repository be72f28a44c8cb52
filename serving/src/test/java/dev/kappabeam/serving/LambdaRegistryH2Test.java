package dev.kappabeam.serving;

import java.util.UUID;

/** The Lambda registry suite on H2 in PostgreSQL mode, one in-memory database per test. */
class LambdaRegistryH2Test extends AbstractLambdaRegistryTest {

  @Override
  StoreConfig freshConfig() {
    return StoreConfig.of(
        "jdbc:h2:mem:kblambda_"
            + UUID.randomUUID().toString().replace("-", "")
            + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;DB_CLOSE_DELAY=-1",
        "sa",
        "");
  }
}
