package dev.kappabeam.serving;

/** The serving-store behaviour suite on a real PostgreSQL server ({@link TestPostgres}). */
class ViewStorePostgresIT extends AbstractViewStoreTest {

  @Override
  StoreConfig config() {
    return TestPostgres.database();
  }
}
