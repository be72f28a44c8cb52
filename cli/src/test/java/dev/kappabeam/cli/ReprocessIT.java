package dev.kappabeam.cli;

import static dev.kappabeam.cli.EndToEndSupport.assertRows;
import static dev.kappabeam.cli.EndToEndSupport.kbArgs;
import static dev.kappabeam.cli.EndToEndSupport.kbOk;
import static dev.kappabeam.cli.EndToEndSupport.uniqueTopic;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kappabeam.devstack.LocalStack;
import dev.kappabeam.generator.GeneratedRecord;
import dev.kappabeam.generator.Oracle;
import dev.kappabeam.generator.WorkloadGenerator;
import dev.kappabeam.serving.AliasReads;
import dev.kappabeam.serving.RegisteredVersion;
import dev.kappabeam.serving.RegisteredVersion.Status;
import dev.kappabeam.serving.StoreConfig;
import dev.kappabeam.serving.ViewRegistry;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.events.EventType;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.Views;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.apache.beam.sdk.values.Row;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The Kappa reprocess cycle end to end on a real local stack and DirectRunner: v1 live, a reprocess
 * to v2 with other logic whose controller is killed mid-way and resumed, new events produced during
 * the reprocess, a reader querying the alias throughout, the atomic cutover, rollback, roll forward
 * and drop.
 */
@Timeout(value = 8, unit = TimeUnit.MINUTES)
class ReprocessIT {
  private static final ViewDefinition VIEW = Views.ACTIVITY_PER_MINUTE;

  private static ItStack it;
  private static LocalStack stack;
  private static KafkaTestClient kafka;
  private static StoreConfig config;
  private static ViewStore store;
  private static ViewRegistry registry;

  @BeforeAll
  static void startStack() {
    it = ItStack.start("ReprocessIT");
    stack = it.stack;
    kafka = it.kafka;
    config = it.config;
    store = it.store;
    registry = new ViewRegistry(config);
  }

  @AfterAll
  static void stopStack() {
    if (it != null) {
      registry.close();
      it.close();
    }
  }

  @Test
  void reprocessResumesAfterAControllerCrashCutsOverRollsBackAndDrops() throws Exception {
    String topic = uniqueTopic("reprocess");
    kbOk(stack, "topics", "create", topic, "--partitions", "3");
    List<GeneratedRecord> records =
        WorkloadGenerator.seeded(5L)
            .withCount(600)
            .withOutOfOrderFraction(0.05)
            .withLateFraction(0.02)
            .withTooLateFraction(0.0)
            .withDuplicateFraction(0.03)
            .withMalformedFraction(0.03)
            .generate();
    List<ProducerRecord<byte[], byte[]>> sends = new ArrayList<>();
    List<byte[]> values = new ArrayList<>();
    for (GeneratedRecord r : records) {
      sends.add(new ProducerRecord<>(topic, r.key(), r.value()));
      values.add(r.value());
    }
    kafka.produce(sends);

    // v1: "view" events excluded, built by a drained run, then made live.
    kbOk(
        stack,
        "run",
        "--mode",
        "streaming",
        "--drain-when-caught-up",
        "--topic",
        topic,
        "--version",
        "v1",
        "--views",
        VIEW.name(),
        "--exclude-types",
        "view");
    assertEquals(Status.BUILDING, registry.get(VIEW.name(), "v1").orElseThrow().status());
    kbOk(stack, "cutover", "--view", VIEW.name(), "--version", "v1");
    List<Row> v1Rows = store.readAll(VIEW, "v1");
    assertRows(
        VIEW,
        Oracle.compute(
                values, ViewParameters.defaults().withExcludedTypes(EnumSet.of(EventType.VIEW)))
            .rows(VIEW),
        "oracle without views",
        v1Rows,
        "v1");
    assertEquals(v1Rows, store.readLive(VIEW), "the alias serves v1");

    // A reader that queries the alias during everything that follows.
    Set<List<Long>> seen = ConcurrentHashMap.newKeySet();
    AtomicBoolean stopReading = new AtomicBoolean();
    AtomicReference<String> readError = new AtomicReference<>();
    AtomicInteger reads = new AtomicInteger();
    Thread reader =
        new Thread(
            () -> {
              try (Connection c =
                      java.sql.DriverManager.getConnection(
                          config.jdbcUrl(), config.user(), config.password());
                  Statement st = c.createStatement()) {
                while (!stopReading.get()) {
                  // As kb serve reads: H2 may fail a query planned while the first cutover to v2
                  // replaces the alias; read again (AliasReads). Any other failure fails the test.
                  seen.add(
                      AliasReads.retrying(
                          () -> {
                            try (ResultSet rs =
                                st.executeQuery(
                                    "SELECT COUNT(*), COALESCE(SUM(\"events\"), 0) FROM"
                                        + " \"activity_per_minute\"")) {
                              rs.next();
                              return List.of(rs.getLong(1), rs.getLong(2));
                            }
                          }));
                  reads.incrementAndGet();
                }
              } catch (SQLException e) {
                readError.compareAndSet(null, e.toString());
              }
            });
    reader.start();

    // v2 (default logic): its controller runs in another JVM and is killed mid-way.
    File log = Files.createTempFile("reprocess-v2-", ".log").toFile();
    Process controller =
        EndToEndSupport.startKbProcess(
            kbArgs(
                stack,
                "reprocess",
                "--view",
                VIEW.name(),
                "--version",
                "v2",
                "--topic",
                topic,
                "--caught-up-for",
                "PT4S",
                "--exit-after-cutover"),
            log);
    try {
      await(
          "v2 has rows but has not caught up",
          90,
          () ->
              registry.get(VIEW.name(), "v2").map(v -> v.jobState() != null).orElse(false)
                  && store.tableExists(VIEW, "v2")
                  && store.progress(VIEW, "v2").rows() > 0,
          log);
      assertTrue(
          registry.get(VIEW.name(), "v2").orElseThrow().caughtUpAt() == null,
          "the first controller must be killed before v2 catches up\n" + read(log));
    } finally {
      controller.destroyForcibly();
      controller.waitFor(30, TimeUnit.SECONDS);
    }
    RegisteredVersion crashed = registry.get(VIEW.name(), "v2").orElseThrow();
    assertEquals(Status.BUILDING, crashed.status());
    InProcessKb.Result status = kbOk(stack, "status", "--view", VIEW.name());
    assertTrue(status.out().contains("is dead"), "status reports the dead job\n" + status.out());
    assertEquals(v1Rows, store.readLive(VIEW), "v1 keeps serving");

    // Resume: same version, no logic flags (taken from the registry), in a background thread.
    AtomicInteger exit = new AtomicInteger(-1);
    Thread resumed =
        new Thread(
            () ->
                exit.set(
                    Kb.execute(
                        kbArgs(
                                stack,
                                "reprocess",
                                "--view",
                                VIEW.name(),
                                "--version",
                                "v2",
                                "--caught-up-for",
                                "PT4S",
                                "--exit-after-cutover")
                            .toArray(new String[0]))));
    resumed.start();
    await(
        "the resumed v2 job runs",
        60,
        () ->
            registry
                .get(VIEW.name(), "v2")
                .map(
                    v ->
                        RegisteredVersion.RUNNING.equals(v.jobState())
                            && !v.jobId().equals(crashed.jobId()))
                .orElse(false),
        null);
    // Events produced during the reprocess: 40 minutes old, within the allowed lateness.
    List<ProducerRecord<byte[], byte[]>> fresh = new ArrayList<>();
    Instant base = Instant.now().minusSeconds(40 * 60);
    String[] types = {"view", "click", "cart", "purchase"};
    for (int i = 0; i < 120; i++) {
      String type = types[i % 4];
      String json =
          "{\"event_id\":\"fresh-"
              + i
              + "\",\"user_id\":\"u-"
              + (i % 7)
              + "\",\"type\":\""
              + type
              + "\""
              + ("purchase".equals(type) ? ",\"item\":\"sku-1\",\"amount_cents\":" + (100 + i) : "")
              + ",\"ts\":\""
              + base.plusSeconds(i * 5L)
              + "\"}";
      byte[] value = json.getBytes(StandardCharsets.UTF_8);
      fresh.add(
          new ProducerRecord<>(topic, ("u-" + (i % 7)).getBytes(StandardCharsets.UTF_8), value));
      values.add(value);
    }
    kafka.produce(fresh);
    resumed.join(TimeUnit.MINUTES.toMillis(4));
    stopReading.set(true);
    reader.join(30_000);
    assertEquals(0, exit.get(), "the resumed reprocess exits 0 after the cutover");

    // After the cutover the alias is v2 and equals the oracle over the whole log.
    List<Row> v2Rows = store.readAll(VIEW, "v2");
    assertRows(
        VIEW, Oracle.compute(values, ViewParameters.defaults()).rows(VIEW), "oracle", v2Rows, "v2");
    assertEquals(v2Rows, store.readLive(VIEW));
    RegisteredVersion v2 = registry.get(VIEW.name(), "v2").orElseThrow();
    RegisteredVersion v1 = registry.get(VIEW.name(), "v1").orElseThrow();
    assertEquals(Status.LIVE, v2.status());
    assertEquals(Status.RETIRED, v1.status());
    assertNotNull(v2.caughtUpAt());
    assertNotNull(v2.switchedAt());
    assertNotEquals(v1.fingerprint(), v2.fingerprint(), "other logic, other fingerprint");

    // Every read was entirely v1 or entirely v2.
    assertTrue(readError.get() == null, "a read failed: " + readError.get());
    Set<List<Long>> allowed = Set.of(signature(v1Rows), signature(v2Rows));
    assertTrue(
        allowed.containsAll(seen),
        "reads saw " + seen + " but only " + allowed + " are whole versions (" + reads + " reads)");
    assertTrue(seen.containsAll(allowed), "the reader saw both versions: " + seen);

    // Rollback restores v1's rows exactly; cutover goes forward again.
    kbOk(stack, "rollback", "--view", VIEW.name());
    assertEquals(v1Rows, store.readLive(VIEW));
    kbOk(stack, "cutover", "--view", VIEW.name(), "--version", "v2");
    assertEquals(v2Rows, store.readLive(VIEW));

    // Drop v1: refused while live elsewhere is fine; v1 is retired now.
    assertEquals(
        ExitCodes.ENVIRONMENT,
        EndToEndSupport.kb(stack, "drop", "--view", VIEW.name(), "--version", "v2").exitCode(),
        "the live version cannot be dropped");
    kbOk(stack, "drop", "--view", VIEW.name(), "--version", "v1");
    assertFalse(store.tableExists(VIEW, "v1"), "v1's table is gone");
    String group = "kappa-beam." + topic + ".v1";
    assertFalse(
        kafka.admin().listConsumerGroups().all().get(30, TimeUnit.SECONDS).stream()
            .map(ConsumerGroupListing::groupId)
            .anyMatch(group::equals),
        "v1's consumer group is gone");
    assertEquals(Status.DROPPED, registry.get(VIEW.name(), "v1").orElseThrow().status());
    assertEquals(v2Rows, store.readLive(VIEW));
    InProcessKb.Result after = kbOk(stack, "status", "--view", VIEW.name());
    assertTrue(after.out().contains("live v2"), after.out());
  }

  private static List<Long> signature(List<Row> rows) {
    long events = 0;
    for (Row r : rows) {
      events += r.getInt64("events");
    }
    return List.of((long) rows.size(), events);
  }

  private static void await(String what, int seconds, BooleanSupplier condition, File log)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        fail("timed out waiting until " + what + (log == null ? "" : "\n" + read(log)));
      }
      Thread.sleep(200);
    }
  }

  private static String read(File f) {
    try {
      return Files.readString(f.toPath());
    } catch (java.io.IOException e) {
      return "(no log: " + e + ")";
    }
  }
}
