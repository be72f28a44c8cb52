package dev.kappabeam.serving;

/** The read-progress suite on a real PostgreSQL server ({@link TestPostgres}), one schema each. */
class ReadProgressPostgresIT extends AbstractReadProgressTest {
  @Override
  StoreConfig freshConfig() {
    return TestPostgres.freshSchema("kbprog");
  }

  @Override
  void cleanUp(StoreConfig config) {
    TestPostgres.dropSchema(config);
  }
}
