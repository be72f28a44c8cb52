package dev.kappabeam.serving;

/**
 * The per-version counters suite on a real PostgreSQL server ({@link TestPostgres}), one schema per
 * test.
 */
class VersionCountersPostgresIT extends AbstractVersionCountersTest {

  @Override
  StoreConfig freshConfig() {
    return TestPostgres.freshSchema("kbcnt");
  }

  @Override
  void cleanUp(StoreConfig config) {
    TestPostgres.dropSchema(config);
  }
}
