package dev.kappabeam.pipelines.sinks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kappabeam.serving.StoreConfig;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.CounterNames;
import dev.kappabeam.transforms.ReferenceViews;
import dev.kappabeam.transforms.events.EventParser;
import dev.kappabeam.transforms.events.SourceRecord;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.ViewTable;
import dev.kappabeam.transforms.views.Views;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Instant;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Ids at the cap ({@value EventParser#MAX_ID_BYTES} UTF-8 bytes, four-byte characters included)
 * reach the serving store's keys on H2 and on a real PostgreSQL (from {@code KB_TEST_PG_URL}),
 * while 10 KB ids, which PostgreSQL's index refuses (SQLState 54000), are dead letters and never
 * reach the sink: the run ends in DONE.
 */
class LongIdsSinkIT {
  private static final Instant T0 = Instant.parse("2026-11-25T10:00:00Z");
  private static final String EMOJI_USER = "\uD83D\uDE00".repeat(EventParser.MAX_ID_BYTES / 4);
  private static final String MAX_ITEM = "i".repeat(EventParser.MAX_ID_BYTES);
  private static final String MAX_EVENT_ID = "e".repeat(EventParser.MAX_ID_BYTES);
  private static final String TEN_KB = "r".repeat(10_000);

  private static SourceRecord record(long offset, String json) {
    return new SourceRecord("events", 0, offset, null, json.getBytes(StandardCharsets.UTF_8));
  }

  private static String view(String id, String user) {
    return "{\"event_id\":\""
        + id
        + "\",\"user_id\":\""
        + user
        + "\",\"type\":\"view\",\"ts\":\""
        + T0
        + "\"}";
  }

  private static String purchase(String id, String user, String item) {
    return "{\"event_id\":\""
        + id
        + "\",\"user_id\":\""
        + user
        + "\",\"type\":\"purchase\",\"amount_cents\":100,\"item\":\""
        + item
        + "\",\"ts\":\""
        + T0
        + "\"}";
  }

  private static Map<ViewDefinition, List<Row>> expected() {
    return Map.of(
        Views.ACTIVITY_PER_MINUTE,
        List.of(
            Row.withSchema(Views.ACTIVITY_PER_MINUTE.schema())
                .addValues(T0, "view", 1L, 1L, 0L)
                .build(),
            Row.withSchema(Views.ACTIVITY_PER_MINUTE.schema())
                .addValues(T0, "purchase", 1L, 1L, 100L)
                .build()),
        Views.ITEM_REVENUE_HOURLY,
        List.of(
            Row.withSchema(Views.ITEM_REVENUE_HOURLY.schema())
                .addValues(T0, MAX_ITEM, 1L, 100L)
                .build()),
        Views.USER_SESSIONS,
        List.of(
            Row.withSchema(Views.USER_SESSIONS.schema())
                .addValues(EMOJI_USER, T0, T0, 1L, 0L)
                .build(),
            Row.withSchema(Views.USER_SESSIONS.schema()).addValues("u-1", T0, T0, 1L, 1L).build()));
  }

  private static void assertLongIdsHandled(StoreConfig store) {
    String version = "t" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    Pipeline p = Pipeline.create(PipelineOptionsFactory.create());
    PCollectionTuple out =
        p.apply(
                Create.of(
                        record(0, view("e-1", EMOJI_USER)),
                        record(1, purchase(MAX_EVENT_ID, "u-1", MAX_ITEM)),
                        record(2, view("e-3", TEN_KB)),
                        record(3, purchase("e-4", "u-1", TEN_KB)),
                        record(4, view(TEN_KB, "u-1")))
                    .withCoder(SourceRecord.Coder.of()))
            .apply(ReferenceViews.of(ViewParameters.defaults()));
    for (ViewDefinition view : Views.all()) {
      out.get(ReferenceViews.rowsOf(view))
          .apply("Write_" + view.name(), new ServingStoreSink(store, view, version));
    }
    PipelineResult result = p.run();
    assertEquals(PipelineResult.State.DONE, result.waitUntilFinish());
    assertEquals(3, counter(result, CounterNames.DEAD_LETTERED));
    assertEquals(2, counter(result, CounterNames.ACCEPTED));
    try (ViewStore viewStore = new ViewStore(store)) {
      for (ViewDefinition view : Views.all()) {
        assertEquals(
            new ViewTable(view).applyAll(expected().get(view)).rows(),
            viewStore.readAll(view, version),
            view.name());
        viewStore.dropTable(view, version);
      }
    }
  }

  private static long counter(PipelineResult result, String name) {
    long sum = 0;
    for (MetricResult<Long> c :
        result
            .metrics()
            .queryMetrics(
                MetricsFilter.builder()
                    .addNameFilter(MetricNameFilter.named(CounterNames.NAMESPACE, name))
                    .build())
            .getCounters()) {
      sum += c.getCommitted();
    }
    return sum;
  }

  @Test
  void idsAtTheCapAreStoredAndLongerOnesDeadLetteredOnH2() {
    assertLongIdsHandled(
        StoreConfig.of(
            "jdbc:h2:mem:longids"
                + System.nanoTime()
                + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DB_CLOSE_DELAY=-1",
            "kb",
            "kb"));
  }

  @Test
  void idsAtTheCapAreStoredAndLongerOnesDeadLetteredOnPostgres() {
    String url = System.getenv("KB_TEST_PG_URL");
    if (url == null) {
      boolean skip =
          "1".equals(System.getenv("KB_SKIP_POSTGRES"))
              || "1".equals(System.getProperty("KB_SKIP_POSTGRES"));
      Assumptions.assumeFalse(skip, "PostgreSQL skipped (KB_SKIP_POSTGRES=1)");
      fail(
          "KB_TEST_PG_URL is not set: start PostgreSQL with"
              + " eval \"$(serving/src/test/postgres/start-postgres.sh)\", or set KB_SKIP_POSTGRES=1");
    }
    assertLongIdsHandled(
        StoreConfig.of(
            url, System.getenv("KB_TEST_PG_USER"), System.getenv("KB_TEST_PG_PASSWORD")));
  }
}
