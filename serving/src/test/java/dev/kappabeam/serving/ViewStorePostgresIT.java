package dev.kappabeam.serving;

import static dev.kappabeam.serving.TestRows.T0;
import static dev.kappabeam.serving.TestRows.activity;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.transforms.views.ViewTable;
import dev.kappabeam.transforms.views.Views;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.values.Row;
import org.junit.jupiter.api.Test;

/** The serving-store behaviour suite on a real PostgreSQL server ({@link TestPostgres}). */
class ViewStorePostgresIT extends AbstractViewStoreTest {

  @Override
  StoreConfig config() {
    return TestPostgres.database();
  }

  /**
   * The server ends the store's connection ({@code pg_terminate_backend}: SQLState 57P01,
   * administrator command): the next batch is applied on a new connection, and a batch applied
   * again (as after a commit whose answer was lost with the connection) changes nothing.
   */
  @Test
  void aConnectionEndedByTheServerIsReplacedAndABatchAppliedAgainChangesNothing() throws Exception {
    String v = newTable(Views.ACTIVITY_PER_MINUTE);
    String name = "kb_outage_" + v;
    StoreConfig c = config();
    StoreConfig named =
        StoreConfig.of(
            c.jdbcUrl() + (c.jdbcUrl().contains("?") ? "&" : "?") + "ApplicationName=" + name,
            c.user(),
            c.passwordSource());
    List<Row> first = List.of(activity(T0, "view", 3, 2, 0), activity(T0, "click", 1, 1, 0));
    List<Row> second =
        List.of(activity(T0, "view", 5, 3, 0), activity(T0.plus(60_000), "cart", 2, 2, 0));
    try (ViewStore riding = new ViewStore(named.withOutageGrace(Duration.ofSeconds(10)))) {
      assertEquals(2, riding.apply(Views.ACTIVITY_PER_MINUTE, v, first));
      assertEquals(1, terminate(name), "the store's connection was ended");
      List<Row> again = new ArrayList<>(first);
      again.addAll(second);
      assertEquals(2, riding.apply(Views.ACTIVITY_PER_MINUTE, v, again));
      assertEquals(0, riding.apply(Views.ACTIVITY_PER_MINUTE, v, again), "idempotent");
      assertEquals(
          new ViewTable(Views.ACTIVITY_PER_MINUTE).applyAll(again).rows(),
          riding.readAll(Views.ACTIVITY_PER_MINUTE, v));
    }
  }

  /** Ends the sessions of {@code applicationName}; returns how many. */
  private int terminate(String applicationName) throws Exception {
    int ended = 0;
    try (Connection c = config().connect();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    + " WHERE pid <> pg_backend_pid() AND application_name = ?")) {
      ps.setString(1, applicationName);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          assertTrue(rs.getBoolean(1));
          ended++;
        }
      }
    }
    return ended;
  }
}
