package dev.kappabeam.runners.dataflow.bigquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.transforms.views.Views;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Instant;
import org.junit.jupiter.api.Test;

class BigQueryViewTablesTest {
  @Test
  void tableDdlHasTheViewColumnsKeyPartitionAndClustering() {
    String ddl = BigQueryViewTables.createTableDdl("p1", "serving", Views.USER_SESSIONS, "v2");
    assertEquals(
        "CREATE TABLE IF NOT EXISTS `p1.serving.user_sessions__v2` (\n"
            + "  `user_id` STRING NOT NULL,\n"
            + "  `session_start` TIMESTAMP NOT NULL,\n"
            + "  `session_end` TIMESTAMP NOT NULL,\n"
            + "  `events` INT64 NOT NULL,\n"
            + "  `purchases` INT64 NOT NULL,\n"
            + "  PRIMARY KEY (`user_id`, `session_start`) NOT ENFORCED\n"
            + ")\n"
            + "PARTITION BY DATE(`session_start`)\n"
            + "CLUSTER BY `user_id`, `session_start`",
        ddl);
  }

  @Test
  void keyedViewsReadTheTableAsIs() {
    String ddl =
        BigQueryViewTables.createCurrentViewDdl("p1", "serving", Views.ACTIVITY_PER_MINUTE, "v2");
    assertEquals(
        "CREATE OR REPLACE VIEW `p1.serving.activity_per_minute__v2_current` AS\n"
            + "SELECT a.`window_start`, a.`type`, a.`events`, a.`distinct_users`,"
            + " a.`revenue_cents` FROM `p1.serving.activity_per_minute__v2` AS a",
        ddl);
  }

  @Test
  void sessionReadViewLeavesOutSessionsInsideALongerOne() {
    String ddl =
        BigQueryViewTables.createCurrentViewDdl("p1", "serving", Views.USER_SESSIONS, "v2");
    assertTrue(ddl.contains("WHERE NOT EXISTS"), ddl);
    assertTrue(ddl.contains("b.`user_id` = a.`user_id`"), ddl);
  }

  @Test
  void changeSequenceNumberIsTheProgressInHex() {
    Row r =
        Row.withSchema(Views.ITEM_REVENUE_HOURLY.schema())
            .addValues(new Instant(0), "sku-1", 255L, 1000L)
            .build();
    assertEquals("ff", BigQueryViewTables.changeSequenceNumber(Views.ITEM_REVENUE_HOURLY, r));
  }

  @Test
  void versionsFollowTheJdbcStoreNaming() {
    assertThrows(
        IllegalArgumentException.class,
        () -> BigQueryViewTables.table("p", "d", Views.USER_SESSIONS, "V-2"));
  }
}
