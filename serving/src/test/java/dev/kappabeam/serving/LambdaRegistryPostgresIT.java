package dev.kappabeam.serving;

/**
 * The Lambda registry suite on a real PostgreSQL server ({@link TestPostgres}), one schema per
 * test: the {@code <view>_lambda} SQL views (sessions joined across the cutoff in SQL) in
 * PostgreSQL's own dialect.
 */
class LambdaRegistryPostgresIT extends AbstractLambdaRegistryTest {

  @Override
  StoreConfig freshConfig() {
    return TestPostgres.freshSchema("kblam");
  }

  @Override
  void cleanUp(StoreConfig config) {
    TestPostgres.dropSchema(config);
  }
}
