package dev.kappabeam.serving;

/**
 * The view registry suite on a real PostgreSQL server ({@link TestPostgres}), one schema per test.
 */
class ViewRegistryPostgresIT extends AbstractViewRegistryTest {

  @Override
  StoreConfig freshConfig() {
    return TestPostgres.freshSchema("kbreg");
  }

  @Override
  void cleanUp(StoreConfig config) {
    TestPostgres.dropSchema(config);
  }

  @Override
  boolean ddlIsTransactional() {
    return true;
  }
}
