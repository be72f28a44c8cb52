package dev.kappabeam.cli;

import static dev.kappabeam.cli.EndToEndSupport.assertRows;
import static dev.kappabeam.cli.EndToEndSupport.kbArgs;
import static dev.kappabeam.cli.EndToEndSupport.kbOk;
import static dev.kappabeam.cli.EndToEndSupport.uniqueTopic;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kappabeam.devstack.LocalStack;
import dev.kappabeam.generator.GeneratedRecord;
import dev.kappabeam.generator.Oracle;
import dev.kappabeam.generator.WorkloadGenerator;
import dev.kappabeam.serving.LambdaRegistry;
import dev.kappabeam.serving.RegisteredVersion;
import dev.kappabeam.serving.StoreConfig;
import dev.kappabeam.serving.ViewRegistry;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.Views;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.apache.beam.sdk.values.Row;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Lambda end to end on a real local stack and DirectRunner: a batch up to a cutoff in the middle of
 * the data (inside windows and sessions), a speed layer from the cutoff, the merged view equal to
 * the oracle and to a Kappa (historical) run over everything; a speed-job restart; records later
 * than the allowed lateness missing from the speed layer (on the late topic) and corrected by the
 * next batch, which rebases the speed layer and stops the old speed job.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class LambdaIT {
  private static final List<ViewDefinition> VIEWS = Views.all();
  private static final String ALL = "activity_per_minute,item_revenue_hourly,user_sessions";

  private static ItStack it;
  private static LocalStack stack;
  private static KafkaTestClient kafka;
  private static StoreConfig config;
  private static ViewStore store;
  private static LambdaRegistry lambda;

  @BeforeAll
  static void startStack() {
    it = ItStack.start("LambdaIT");
    stack = it.stack;
    kafka = it.kafka;
    config = it.config;
    store = it.store;
    lambda = new LambdaRegistry(config);
  }

  @AfterAll
  static void stopStack() {
    if (it != null) {
      it.close();
    }
  }

  @Test
  void mergedViewEqualsKappaAndOracleAcrossCutoffsRestartsAndTooLateRecords() throws Exception {
    String topic = uniqueTopic("lambda");
    kbOk(stack, "topics", "create", topic, "--partitions", "3");
    // Duplicates too: re-sent copies within 50 records, and below copies re-sent across each
    // cutoff, which the speed layer must recognise (it primes its de-duplication before it).
    List<GeneratedRecord> records =
        WorkloadGenerator.seeded(11L)
            .withCount(360)
            .withOutOfOrderFraction(0.05)
            .withLateFraction(0.0)
            .withTooLateFraction(0.0)
            .withDuplicateFraction(0.04)
            .withMalformedFraction(0.03)
            .generate();
    List<byte[]> produced = new ArrayList<>();
    produce(topic, records.subList(0, 180), produced);

    // Batch 1 at the end offsets now: the middle of the data.
    kbOk(stack, "batch", "--view", ALL, "--topic", topic);
    LambdaRegistry.Cutoff c1 = lambda.latestBatch(Views.USER_SESSIONS.name()).orElseThrow();
    assertEquals(180 + 0, c1.totalRecords(), "the cutoff is the end offsets at launch");

    resendAcrossCutoff(topic, records.subList(150, 180), produced);
    produce(topic, records.subList(180, 300), produced);
    kbOk(stack, "speed", "--view", ALL, "--drain-when-caught-up");
    assertEquals("lambda_s" + c1.id(), lambda.live("user_sessions").orElseThrow().speedVersion());
    assertMergedEqualsOracle(produced, "batch 1 + speed 1");
    assertCutoffSplitsWindowsAndSessions(c1);
    assertSqlViewsEqualOracle(produced);

    // A speed-job restart, open-ended this time: it replays from the cutoff into the same tables
    // (nothing doubles). Once it has caught up and its partitions idle, the watermark moves to
    // processing time, so records of 2026-11-25 become far later than the allowed lateness.
    AtomicInteger speedExit = new AtomicInteger(-1);
    Thread speedJob =
        new Thread(
            () ->
                speedExit.set(
                    Kb.execute(kbArgs(stack, "speed", "--view", ALL).toArray(String[]::new))));
    speedJob.start();
    String group = "kappa-beam." + topic + ".lambda_s" + c1.id();
    await(
        "the open-ended speed job caught up",
        120,
        () -> sum(kafka.committed(group, topic).values()) >= 300 + 3);
    await(
        "the restarted speed job has fired every window",
        90,
        () -> merged(Views.USER_SESSIONS).equals(oracle(produced, Views.USER_SESSIONS)));
    assertMergedEqualsOracle(produced, "batch 1 + restarted speed 1");
    // Old events, one at a time, until one is found late: those before it may still have been
    // accepted while the watermark moved on (then they are in the view, which is also checked).
    List<byte[]> tooLate = new ArrayList<>();
    List<byte[]> withoutLate = new ArrayList<>(produced);
    boolean foundLate = false;
    for (int i = 1; i <= 6 && !foundLate; i++) {
      byte[] value = oldEvent(i);
      String item = "sku-late-" + i;
      String id = "late-" + i;
      kafka.produce(
          List.of(
              new ProducerRecord<>(
                  topic, ("u-late-" + i).getBytes(StandardCharsets.UTF_8), value)));
      tooLate.add(value);
      await(
          id + " is on the late topic or in the speed view",
          60,
          () ->
              readLate(topic).stream().anyMatch(r -> eventId(r.value()).equals(id))
                  || merged(Views.ITEM_REVENUE_HOURLY).stream()
                      .anyMatch(r -> item.equals(r.getString("item"))));
      foundLate = readLate(topic).stream().anyMatch(r -> eventId(r.value()).equals(id));
      if (!foundLate) {
        withoutLate.add(value);
      }
    }
    assertTrue(foundLate, "an event beyond the allowed lateness went to the late topic");
    assertMergedEqualsOracle(withoutLate, "speed layer without the too-late records");
    produced.addAll(tooLate);
    assertNotEquals(
        oracle(produced, Views.ACTIVITY_PER_MINUTE),
        merged(Views.ACTIVITY_PER_MINUTE),
        "too-late records are missing before the next batch");

    // Batch 2 includes them; speed 2 continues from cutoff 2; the rebase retires speed 1.
    kbOk(stack, "batch", "--view", ALL);
    LambdaRegistry.Cutoff c2 = lambda.latestBatch(Views.USER_SESSIONS.name()).orElseThrow();
    assertEquals(c1.id() + 1, c2.id());
    assertEquals(300 + 3 + tooLate.size(), c2.totalRecords());
    resendAcrossCutoff(topic, records.subList(270, 300), produced);
    produce(topic, records.subList(300, 360), produced);
    kbOk(stack, "speed", "--view", ALL, "--drain-when-caught-up");
    assertEquals(
        "lambda_b" + c2.id(), lambda.live("activity_per_minute").orElseThrow().batchVersion());
    speedJob.join(TimeUnit.SECONDS.toMillis(60));
    assertFalse(speedJob.isAlive(), "the replaced speed job stops after the rebase");
    assertEquals(0, speedExit.get());
    try (ViewRegistry registry = new ViewRegistry(config)) {
      assertEquals(
          RegisteredVersion.Status.RETIRED,
          registry.get("user_sessions", "lambda_s" + c1.id()).orElseThrow().status());
    }
    assertMergedEqualsOracle(produced, "batch 2 + speed 2 (too-late records corrected)");

    // The Kappa answer: one historical run over everything.
    kbOk(stack, "run", "--mode", "historical", "--topic", topic, "--version", "kappa");
    for (ViewDefinition v : VIEWS) {
      assertRows(v, store.readAll(v, "kappa"), "kappa", merged(v), "lambda");
    }
    assertSqlViewsEqualOracle(produced);
  }

  private static List<Row> merged(ViewDefinition v) {
    return lambda.read(store, v);
  }

  private static List<Row> oracle(List<byte[]> values, ViewDefinition v) {
    return Oracle.compute(values, ViewParameters.defaults()).rows(v);
  }

  private static void assertMergedEqualsOracle(List<byte[]> values, String what) {
    Oracle.Result expected = Oracle.compute(values, ViewParameters.defaults());
    for (ViewDefinition v : VIEWS) {
      assertRows(v, expected.rows(v), "oracle", merged(v), what);
    }
  }

  /** The SQL views are exact for items and sessions, and for activity except straddling users. */
  private static void assertSqlViewsEqualOracle(List<byte[]> values) {
    Oracle.Result expected = Oracle.compute(values, ViewParameters.defaults());
    for (ViewDefinition v : List.of(Views.ITEM_REVENUE_HOURLY, Views.USER_SESSIONS)) {
      assertRows(v, expected.rows(v), "oracle", readSql(v), "SQL view " + v.name() + "_lambda");
    }
  }

  /** The cutoff falls inside windows and sessions: some keys have rows on both sides. */
  private static void assertCutoffSplitsWindowsAndSessions(LambdaRegistry.Cutoff c) {
    ViewDefinition a = Views.lambdaPartial(Views.ACTIVITY_PER_MINUTE);
    Set<List<Object>> batchKeys = new HashSet<>();
    store.readAll(a, c.batchVersion()).forEach(r -> batchKeys.add(a.key(r)));
    assertTrue(
        store.readAll(a, c.speedVersion()).stream().anyMatch(r -> batchKeys.contains(a.key(r))),
        "a minute window straddles the cutoff");
    List<Row> sessions = merged(Views.USER_SESSIONS);
    Set<Row> sides = new HashSet<>(store.readAll(Views.USER_SESSIONS, c.batchVersion()));
    sides.addAll(store.readAll(Views.USER_SESSIONS, c.speedVersion()));
    assertTrue(
        sessions.stream().anyMatch(r -> !sides.contains(r)),
        "a session straddling the cutoff was joined from both sides");
  }

  /** A valid purchase of 2026-11-25T10:00:3i (inside the data's first hour and minute). */
  private static byte[] oldEvent(int i) {
    return ("{\"event_id\":\"late-"
            + i
            + "\",\"user_id\":\"u-late-"
            + i
            + "\",\"type\":\"purchase\",\"item\":\"sku-late-"
            + i
            + "\",\"amount_cents\":"
            + (100 * i)
            + ",\"ts\":\"2026-11-25T10:00:3"
            + i
            + ".000Z\"}")
        .getBytes(StandardCharsets.UTF_8);
  }

  private static String eventId(byte[] value) {
    String s = new String(value, StandardCharsets.UTF_8);
    int i = s.indexOf("\"event_id\":\"") + 12;
    return s.substring(i, s.indexOf('"', i));
  }

  private static List<Row> readSql(ViewDefinition v) {
    List<Row> out = new ArrayList<>();
    try (java.sql.Connection c =
            java.sql.DriverManager.getConnection(
                config.jdbcUrl(), config.user(), config.password());
        java.sql.Statement st = c.createStatement();
        java.sql.ResultSet rs = st.executeQuery("SELECT * FROM \"" + v.name() + "_lambda\"")) {
      while (rs.next()) {
        Row.Builder b = Row.withSchema(v.schema());
        for (org.apache.beam.sdk.schemas.Schema.Field f : v.schema().getFields()) {
          if (f.getType().getTypeName() == org.apache.beam.sdk.schemas.Schema.TypeName.DATETIME) {
            b.addValue(
                new org.joda.time.Instant(
                    rs.getObject(f.getName(), java.time.OffsetDateTime.class)
                        .toInstant()
                        .toEpochMilli()));
          } else if (f.getType().getTypeName()
              == org.apache.beam.sdk.schemas.Schema.TypeName.STRING) {
            b.addValue(rs.getString(f.getName()));
          } else {
            b.addValue(rs.getLong(f.getName()));
          }
        }
        out.add(b.build());
      }
    } catch (java.sql.SQLException e) {
      throw new AssertionError("cannot read " + v.name() + "_lambda: " + e, e);
    }
    return new dev.kappabeam.transforms.views.ViewTable(v).applyAll(out).rows();
  }

  private static List<ConsumerRecord<byte[], byte[]>> readLate(String topic) {
    return kafka.readAll(topic + ".late");
  }

  private void produce(String topic, List<GeneratedRecord> records, List<byte[]> values) {
    List<ProducerRecord<byte[], byte[]>> sends = new ArrayList<>();
    for (GeneratedRecord r : records) {
      sends.add(new ProducerRecord<>(topic, r.key(), r.value()));
      if (values != null) {
        values.add(r.value());
      }
    }
    kafka.produce(sends);
  }

  /**
   * Re-sends (same key, same bytes) three valid events from just before the cutoff, right after it:
   * the batch counted them, so the speed layer must remove these copies as duplicates.
   */
  private void resendAcrossCutoff(String topic, List<GeneratedRecord> before, List<byte[]> values) {
    List<GeneratedRecord> copies =
        before.stream().filter(r -> r.kind() == GeneratedRecord.Kind.VALID).limit(3).toList();
    assertEquals(3, copies.size(), "valid events to re-send");
    produce(topic, copies, values);
  }

  private static long sum(java.util.Collection<Long> values) {
    return values.stream().mapToLong(Long::longValue).sum();
  }

  private static void await(String what, int seconds, BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        fail("timed out waiting until " + what);
      }
      Thread.sleep(250);
    }
  }
}
