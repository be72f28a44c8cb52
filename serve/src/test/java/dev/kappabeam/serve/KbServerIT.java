package dev.kappabeam.serve;

import static dev.kappabeam.serve.ServeFixture.activity;
import static dev.kappabeam.serve.ServeFixture.session;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kappabeam.serving.LambdaRegistry;
import dev.kappabeam.serving.ReadProgress;
import dev.kappabeam.serving.RegisteredVersion;
import dev.kappabeam.transforms.views.Views;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The JSON endpoints and the metrics of {@link KbServer} over a real local stack: H2 server with
 * view tables, registry rows and counters written directly, and a Kafka broker with committed group
 * offsets for the lag.
 */
class KbServerIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A fingerprint with the characters Prometheus label values must escape. */
  private static final String ODD_FINGERPRINT = "fp \"quoted\" back\\slash\nline";

  private static ServeFixture f;

  private static final String CANARY = "canary-7f3b9";

  @BeforeAll
  static void setUp() throws Exception {
    f = new ServeFixture("api");
    // activity_per_minute: v1 live, v2 building with a job and lag.
    f.build(
        Views.ACTIVITY_PER_MINUTE,
        "v1",
        null,
        List.of(
            activity(0, "view", 10, 4, 0),
            activity(0, "click", 5, 3, 0),
            activity(1, "click", 7, 2, 0),
            activity(1, "purchase", 2, 2, 2598),
            activity(2, "purchase", 1, 1, 9900),
            activity(3, "view", 30, 9, 0)));
    f.registry.cutover(Views.ACTIVITY_PER_MINUTE, "v1");
    RegisteredVersion v2 =
        f.build(
            Views.ACTIVITY_PER_MINUTE,
            "v2",
            ODD_FINGERPRINT,
            List.of(activity(0, "view", 99, 9, 0)));
    f.registry.jobStarted(List.of(v2), "DirectRunner", "direct-abc", "host-1", 4242L);
    // user_sessions: v1 live.
    f.build(
        Views.USER_SESSIONS,
        "v1",
        null,
        List.of(
            session("u-1", 0, 10, 4, 1), session("u-1", 60, 61, 2, 0), session("u-2", 5, 6, 1, 0)));
    f.registry.cutover(Views.USER_SESSIONS, "v1");
    // user_sessions h1: a finished historical run. It never commits offsets; its job reported
    // reading everything (kb_read_progress).
    RegisteredVersion h1 =
        f.build(Views.USER_SESSIONS, "h1", null, List.of(session("u-1", 0, 10, 4, 1)));
    f.registry.jobStarted(List.of(h1), "FlinkRunner", "flink-h1", "host-1", 4243L);
    f.registry.jobEnded("flink-h1", RegisteredVersion.DONE);
    f.registry.caughtUp("user_sessions", "h1", Instant.parse("2026-11-25T12:30:00Z"));
    try (ReadProgress progress = new ReadProgress(f.config)) {
      progress.report(h1.consumerGroup(), f.topic, "run-h1", 0, 10, 10);
      progress.report(h1.consumerGroup(), f.topic, "run-h1", 1, 5, 5);
    }
    // user_sessions f1: a run that failed; its cause quotes a JDBC URL with a password.
    RegisteredVersion f1 = f.build(Views.USER_SESSIONS, "f1", null, List.of());
    f.registry.jobStarted(List.of(f1), "DirectRunner", "direct-f1", "host-1", 4244L);
    f.registry.jobEnded(
        "direct-f1",
        RegisteredVersion.FAILED,
        "cannot write at jdbc:postgresql://db:5432/kb?user=kb&password=" + CANARY);
    // item_revenue_hourly: nothing live.

    f.produce(0, 10);
    f.produce(1, 5);
    f.commit(f.group(Views.ACTIVITY_PER_MINUTE, "v1"), Map.of(0, 10L, 1, 5L, 2, 0L));
    f.commit(f.group(Views.ACTIVITY_PER_MINUTE, "v2"), Map.of(0, 4L, 1, 5L));
    f.counters.publish(
        "activity_per_minute",
        "v2",
        counters(100, 80, 5, 10, 5),
        Instant.parse("2026-11-25T12:00:00Z"));
  }

  private static Map<String, Long> counters(
      long read, long accepted, long dead, long duplicates, long late) {
    Map<String, Long> m = new LinkedHashMap<>();
    m.put("read", read);
    m.put("accepted", accepted);
    m.put("dead_lettered", dead);
    m.put("duplicates_removed", duplicates);
    m.put("late", late);
    m.put("custom_thing", 7L);
    return m;
  }

  @AfterAll
  static void tearDown() throws Exception {
    if (f != null) {
      f.close();
    }
  }

  private static JsonNode json(String path, int status) throws Exception {
    HttpResponse<String> r = f.get(path);
    assertEquals(status, r.statusCode(), path + " -> " + r.body());
    assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""));
    return JSON.readTree(r.body());
  }

  private static List<String> column(JsonNode rows, String column) {
    List<String> out = new ArrayList<>();
    rows.forEach(r -> out.add(r.get(column).asText()));
    return out;
  }

  @Test
  void viewsListEveryViewWithItsLiveVersionAndColumns() throws Exception {
    JsonNode views = json("/api/views", 200);
    assertEquals(3, views.size());
    Map<String, JsonNode> byName = new LinkedHashMap<>();
    views.forEach(v -> byName.put(v.get("view").asText(), v));
    assertEquals("v1", byName.get("activity_per_minute").get("live_version").asText());
    assertTrue(byName.get("item_revenue_hourly").get("live_version").isNull());
    assertEquals("v1", byName.get("user_sessions").get("live_version").asText());
    assertEquals("session_start", byName.get("user_sessions").get("time_column").asText());
    assertEquals("user_id", byName.get("user_sessions").get("key_column").asText());
    assertEquals(
        "[\"window_start\",\"type\"]",
        byName.get("activity_per_minute").get("key_columns").toString());
  }

  @Test
  void rowsOfTheLiveVersionOnlyFilteredByRangeAndKeyWithIsoUtcTimes() throws Exception {
    JsonNode all = json("/api/views/activity_per_minute", 200);
    assertEquals("v1", all.get("version").asText());
    assertEquals(6, all.get("count").asInt(), "v1's rows, not building v2's");
    assertFalse(all.get("truncated").asBoolean());
    JsonNode first = all.get("rows").get(0);
    assertEquals("2026-11-25T10:00:00Z", first.get("window_start").asText());
    assertEquals(
        List.of("window_start", "type", "events", "distinct_users", "revenue_cents"),
        iterable(first.fieldNames()));

    // [10:01, 10:03) and type=click; the +01:00 offset is converted.
    JsonNode some =
        json(
            "/api/views/activity_per_minute?from=2026-11-25T11:01:00%2B01:00"
                + "&to=2026-11-25T10:03:00Z&key=click",
            200);
    assertEquals(1, some.get("count").asInt());
    assertEquals("2026-11-25T10:01:00Z", some.get("rows").get(0).get("window_start").asText());
    assertEquals(7, some.get("rows").get(0).get("events").asLong());

    JsonNode limited = json("/api/views/activity_per_minute?limit=2", 200);
    assertEquals(2, limited.get("count").asInt());
    assertTrue(limited.get("truncated").asBoolean());
  }

  @Test
  void topNByANumericColumn() throws Exception {
    JsonNode top = json("/api/views/activity_per_minute?top=3&by=revenue_cents", 200);
    assertEquals(List.of("9900", "2598", "0"), column(top.get("rows"), "revenue_cents"));
    JsonNode byEvents = json("/api/views/activity_per_minute?top=2", 200);
    assertEquals(List.of("30", "10"), column(byEvents.get("rows"), "events"));
  }

  @Test
  void sessionsFilterBySessionStartAndUser() throws Exception {
    JsonNode rows =
        json("/api/views/user_sessions?key=u-1&from=2026-11-25T10:30:00Z", 200).get("rows");
    assertEquals(1, rows.size());
    assertEquals("2026-11-25T11:00:00Z", rows.get(0).get("session_start").asText());
    assertEquals("2026-11-25T11:01:00Z", rows.get(0).get("session_end").asText());
  }

  @Test
  void lambdaViewMergesTheLivePairsBatchAndSpeedRowsPerKey() throws Exception {
    json("/api/lambda/item_revenue_hourly", 404);
    LambdaRegistry lambda = new LambdaRegistry(f.config);
    long id =
        lambda.newCutoff(
            List.of(Views.ITEM_REVENUE_HOURLY.name()), f.topic, Map.of(0, 10L), "now", 1_800_000L);
    f.store.createTable(Views.ITEM_REVENUE_HOURLY, "lambda_b" + id);
    f.store.apply(
        Views.ITEM_REVENUE_HOURLY,
        "lambda_b" + id,
        List.of(item(0, "sku-1", 2, 100), item(0, "sku-2", 1, 40)));
    lambda.batchEnded(Views.ITEM_REVENUE_HOURLY.name(), id, LambdaRegistry.DONE);
    f.store.createTable(Views.ITEM_REVENUE_HOURLY, "lambda_s" + id);
    f.store.apply(
        Views.ITEM_REVENUE_HOURLY,
        "lambda_s" + id,
        List.of(item(0, "sku-1", 1, 50), item(1, "sku-3", 1, 30)));
    lambda.rebase(
        Views.ITEM_REVENUE_HOURLY, lambda.cutoff(Views.ITEM_REVENUE_HOURLY.name(), id).get());

    JsonNode body = json("/api/lambda/item_revenue_hourly", 200);
    assertEquals(id, body.get("cutoff").asLong());
    assertEquals("lambda_b" + id, body.get("batch_version").asText());
    assertEquals("lambda_s" + id, body.get("speed_version").asText());
    JsonNode rows = body.get("rows");
    assertEquals(List.of("sku-1", "sku-2", "sku-3"), column(rows, "item"));
    assertEquals(List.of("3", "1", "1"), column(rows, "purchases"));
    assertEquals(List.of("150", "40", "30"), column(rows, "revenue_cents"));
    assertEquals("2026-11-25T11:00:00Z", rows.get(2).get("window_start").asText());
    JsonNode limited = json("/api/lambda/item_revenue_hourly?limit=1", 200);
    assertEquals(1, limited.get("count").asInt());
    assertTrue(limited.get("truncated").asBoolean());
    assertTrue(
        json("/api/lambda/item_revenue_hourly?top=2", 400)
            .get("error")
            .asText()
            .contains("unknown parameter 'top'"));
  }

  private static org.apache.beam.sdk.values.Row item(
      int hour, String item, long purchases, long revenue) {
    return org.apache.beam.sdk.values.Row.withSchema(Views.ITEM_REVENUE_HOURLY.schema())
        .addValues(
            ServeFixture.T0.plus(org.joda.time.Duration.standardHours(hour)),
            item,
            purchases,
            revenue)
        .build();
  }

  @Test
  void badRequestsAre400WithAMessageAndMissingThings404() throws Exception {
    assertTrue(json("/api/views/nope", 400).get("error").asText().contains("unknown view 'nope'"));
    assertTrue(
        json("/api/views/activity_per_minute?by=nope", 400)
            .get("error")
            .asText()
            .contains("unknown column 'nope'"));
    assertTrue(
        json("/api/views/activity_per_minute?from=10am", 400)
            .get("error")
            .asText()
            .contains("not an ISO-8601 time"));
    assertTrue(
        json("/api/views/activity_per_minute?key=a&key=b", 400)
            .get("error")
            .asText()
            .contains("given twice"));
    assertTrue(
        json("/api/views/item_revenue_hourly", 404)
            .get("error")
            .asText()
            .contains("has no live version"));
    json("/api/nothing", 404);
    HttpResponse<String> post =
        f.send(
            HttpRequest.newBuilder(java.net.URI.create(f.server.url() + "api/views"))
                .POST(HttpRequest.BodyPublishers.ofString("{}")));
    assertEquals(405, post.statusCode());
  }

  @Test
  void versionsShowStatusJobCountersAndLagPerPartition() throws Exception {
    f.registry.heartbeat("direct-abc");
    JsonNode versions = json("/api/versions", 200);
    Map<String, JsonNode> byId = new LinkedHashMap<>();
    versions.forEach(v -> byId.put(v.get("view").asText() + "/" + v.get("version").asText(), v));
    assertEquals(
        List.of(
            "activity_per_minute/v1",
            "activity_per_minute/v2",
            "user_sessions/f1",
            "user_sessions/h1",
            "user_sessions/v1"),
        new ArrayList<>(byId.keySet()));

    JsonNode v1 = byId.get("activity_per_minute/v1");
    assertEquals("live", v1.get("status").asText());
    assertTrue(v1.get("live").asBoolean());
    assertEquals(0, v1.get("lag").asLong());
    assertEquals(6, v1.get("rows").asLong());
    assertTrue(v1.get("switched_at").asText().endsWith("Z"));

    JsonNode v2 = byId.get("activity_per_minute/v2");
    assertEquals("building", v2.get("status").asText());
    assertFalse(v2.get("live").asBoolean());
    assertEquals("DirectRunner", v2.get("runner").asText());
    assertEquals("direct-abc", v2.get("job_id").asText());
    assertEquals("running", v2.get("job_state").asText());
    assertTrue(v2.get("job_alive").asBoolean(), "heartbeat just written");
    assertEquals(ODD_FINGERPRINT, v2.get("fingerprint").asText());
    assertEquals(f.group(Views.ACTIVITY_PER_MINUTE, "v2"), v2.get("consumer_group").asText());
    // p0: end 10 - committed 4; p1: 5 - 5; p2: empty, never committed.
    assertEquals(6, v2.get("lag").asLong());
    JsonNode parts = v2.get("lag_per_partition");
    assertEquals(3, parts.size());
    assertEquals(10, parts.get(0).get("end_offset").asLong());
    assertEquals(4, parts.get(0).get("committed_offset").asLong());
    assertEquals(6, parts.get(0).get("lag").asLong());
    assertEquals(0, parts.get(1).get("lag").asLong());
    assertTrue(parts.get(2).get("committed_offset").isNull());
    assertEquals(100, v2.get("counters").get("read").asLong());
    assertEquals(5, v2.get("counters").get("late").asLong());
    assertEquals("2026-11-25T12:00:00Z", v2.get("counters_updated_at").asText());
    assertEquals("2026-11-25T10:00:00Z", v2.get("newest_event_time").asText());
    assertNull(v2.get("lag_error").textValue());
  }

  /** The {@code /api/versions} entry of one version (fails the test if it is missing). */
  private static JsonNode version(String view, String version) throws Exception {
    for (JsonNode v : json("/api/versions", 200)) {
      if (v.get("view").asText().equals(view) && v.get("version").asText().equals(version)) {
        return v;
      }
    }
    throw new AssertionError(view + " " + version + " is not in /api/versions");
  }

  @Test
  void aFailedRunShowsItsCauseWithCredentialsRedacted() throws Exception {
    JsonNode f1 = version("user_sessions", "f1");
    assertEquals("failed", f1.get("job_state").asText());
    String error = f1.get("job_error").asText();
    assertTrue(error.startsWith("cannot write at jdbc:postgresql://db:5432/kb"), error);
    assertFalse(error.contains(CANARY), error);
    assertTrue(json("/api/versions", 200).toString().indexOf(CANARY) < 0);
    JsonNode v1 = version("activity_per_minute", "v1");
    assertTrue(v1.get("job_error").isNull(), "no error for a job that did not fail");
  }

  @Test
  void aFinishedHistoricalRunIsCompleteWithItsLagFromWhatItRead() throws Exception {
    JsonNode h1 = version("user_sessions", "h1");
    assertEquals("building", h1.get("status").asText(), "the registry status is unchanged");
    assertTrue(h1.get("complete").asBoolean());
    assertEquals("done", h1.get("job_state").asText());
    // p0 read to 10 of 10, p1 5 of 5, p2 empty: nothing behind, though no offset was committed.
    assertEquals(0, h1.get("lag").asLong());
    JsonNode p0 = h1.get("lag_per_partition").get(0);
    assertTrue(p0.get("committed_offset").isNull());
    assertEquals(10, p0.get("read_offset").asLong());
    JsonNode v2 = version("activity_per_minute", "v2");
    assertFalse(v2.get("complete").asBoolean(), "v2's job still runs");
  }

  @Test
  void metricsAreValidPrometheusTextWithCountersLagAndLiveness() throws Exception {
    f.registry.heartbeat("direct-abc");
    HttpResponse<String> r = f.get("/metrics");
    assertEquals(200, r.statusCode());
    assertTrue(
        r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
    PrometheusParser p = PrometheusParser.parse(r.body());

    Map<String, String> v2 = Map.of("view", "activity_per_minute", "version", "v2");
    Map<String, String> v1 = Map.of("view", "activity_per_minute", "version", "v1");
    assertEquals("counter", p.types.get("kb_records_read_total"));
    assertEquals(100.0, p.value("kb_records_read_total", v2));
    assertEquals(80.0, p.value("kb_records_accepted_total", v2));
    assertEquals(5.0, p.value("kb_records_dead_lettered_total", v2));
    assertEquals(10.0, p.value("kb_records_duplicates_removed_total", v2));
    assertEquals(5.0, p.value("kb_records_late_total", v2));
    assertEquals(
        7.0,
        p.value(
            "kb_job_counter_total",
            Map.of("view", "activity_per_minute", "version", "v2", "counter", "custom_thing")));
    assertNull(p.value("kb_records_read_total", v1), "v1 published no counters");

    assertEquals("gauge", p.types.get("kb_consumer_lag_records"));
    String group = f.group(Views.ACTIVITY_PER_MINUTE, "v2");
    assertEquals(
        6.0,
        p.value(
            "kb_consumer_lag_records",
            Map.of(
                "view", "activity_per_minute",
                "version", "v2",
                "topic", f.topic,
                "consumer_group", group,
                "partition", "0")));
    assertEquals(6.0, p.value("kb_version_lag_records", v2));
    assertEquals(1.0, p.value("kb_version_lag_up", v2));

    assertEquals(1.0, p.value("kb_version_live", v1));
    assertEquals(0.0, p.value("kb_version_live", v2));
    assertEquals(1.0, p.value("kb_version_job_alive", v2));
    assertEquals(6.0, p.value("kb_version_rows", v1));
    // The fingerprint label survives escaping exactly.
    Map<String, String> info = new LinkedHashMap<>(v2);
    info.put("status", "building");
    info.put("runner", "DirectRunner");
    info.put("consumer_group", group);
    info.put("fingerprint", ODD_FINGERPRINT);
    assertEquals(1.0, p.value("kb_version_info", info));
  }

  private static List<String> iterable(java.util.Iterator<String> it) {
    List<String> out = new ArrayList<>();
    it.forEachRemaining(out::add);
    return out;
  }
}
