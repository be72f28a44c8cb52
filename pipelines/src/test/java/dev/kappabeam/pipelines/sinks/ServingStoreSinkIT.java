package dev.kappabeam.pipelines.sinks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kappabeam.serving.StoreConfig;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewTable;
import dev.kappabeam.transforms.views.Views;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.schemas.SchemaCoder;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Instant;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * {@link ServingStoreSink} in a pipeline, against H2 and against a real PostgreSQL (from {@code
 * KB_TEST_PG_URL}, {@code KB_TEST_PG_USER}, {@code KB_TEST_PG_PASSWORD}; CI starts one): panes in
 * any order, repeated, with sessions merged by a late event, end as the reference view.
 */
class ServingStoreSinkIT {
  private static final Instant T0 = Instant.parse("2026-11-25T10:00:00Z");

  private static Instant at(int minutes) {
    return T0.plus(org.joda.time.Duration.standardMinutes(minutes));
  }

  private static Row session(String user, int start, int end, long events) {
    return Row.withSchema(Views.USER_SESSIONS.schema())
        .addValues(user, at(start), at(end), events, 0L)
        .build();
  }

  private static Row activity(int minute, String type, long events) {
    return Row.withSchema(Views.ACTIVITY_PER_MINUTE.schema())
        .addValues(at(minute), type, events, Math.min(events, 3L), 0L)
        .build();
  }

  /** Panes as a streaming job emits them: early, on-time, late, a merge, repeats. */
  private static List<Row> sessionPanes() {
    List<Row> panes = new ArrayList<>();
    for (int u = 0; u < 20; u++) {
      String user = "u-" + u;
      panes.add(session(user, 0, 0, 1));
      panes.add(session(user, 0, 10, 2));
      panes.add(session(user, 40, 40, 1));
      panes.add(session(user, 0, 40, 4)); // a late event at minute 20 merged both sessions
      panes.add(session(user, 0, 40, 4)); // closing pane repeats the row
      panes.add(session(user, 120, 125, 2));
    }
    return panes;
  }

  private static List<Row> activityPanes() {
    List<Row> panes = new ArrayList<>();
    for (int m = 0; m < 30; m++) {
      for (String type : List.of("view", "click")) {
        panes.add(activity(m, type, 1));
        panes.add(activity(m, type, 5));
        panes.add(activity(m, type, 7));
        panes.add(activity(m, type, 7));
      }
    }
    return panes;
  }

  private static void runSink(
      StoreConfig store, ViewDefinition view, String version, List<Row> panes) {
    List<Row> shuffled = new ArrayList<>(panes);
    Collections.shuffle(shuffled, new Random(7));
    Pipeline p = Pipeline.create(PipelineOptionsFactory.create());
    p.apply(Create.of(shuffled).withCoder(SchemaCoder.of(view.schema())))
        .apply(new ServingStoreSink(store, view, version));
    p.run().waitUntilFinish();
  }

  private static void assertSinkMatchesReference(StoreConfig store) {
    String version = "t" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    for (ViewDefinition view : List.of(Views.USER_SESSIONS, Views.ACTIVITY_PER_MINUTE)) {
      List<Row> panes = view == Views.USER_SESSIONS ? sessionPanes() : activityPanes();
      runSink(store, view, version, panes);
      runSink(store, view, version, panes); // a replay changes nothing
      try (ViewStore viewStore = new ViewStore(store)) {
        assertEquals(new ViewTable(view).applyAll(panes).rows(), viewStore.readAll(view, version));
        viewStore.dropTable(view, version);
      }
    }
  }

  @Test
  void sinkOnH2EndsAsTheReferenceView() {
    assertSinkMatchesReference(
        StoreConfig.of(
            "jdbc:h2:mem:sink"
                + System.nanoTime()
                + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DB_CLOSE_DELAY=-1",
            "kb",
            "kb"));
  }

  @Test
  void sinkOnPostgresEndsAsTheReferenceView() {
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
    assertSinkMatchesReference(
        StoreConfig.of(
            url, System.getenv("KB_TEST_PG_USER"), System.getenv("KB_TEST_PG_PASSWORD")));
  }
}
