package dev.kappabeam.cli;

import static dev.kappabeam.cli.EndToEndSupport.assertCounters;
import static dev.kappabeam.cli.EndToEndSupport.assertRows;
import static dev.kappabeam.cli.EndToEndSupport.expectedCounters;
import static dev.kappabeam.cli.EndToEndSupport.kbArgs;
import static dev.kappabeam.cli.EndToEndSupport.kbOk;
import static dev.kappabeam.cli.EndToEndSupport.recordsRead;
import static dev.kappabeam.cli.EndToEndSupport.settledOn;
import static dev.kappabeam.cli.EndToEndSupport.startKbProcess;
import static dev.kappabeam.cli.EndToEndSupport.uniqueTopic;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kappabeam.generator.GeneratedRecord;
import dev.kappabeam.generator.Oracle;
import dev.kappabeam.generator.WorkloadGenerator;
import dev.kappabeam.pipelines.sinks.KafkaSinks;
import dev.kappabeam.serving.VersionCounters;
import dev.kappabeam.serving.ViewDiff;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.CounterNames;
import dev.kappabeam.transforms.events.EventParser;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.Views;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Hostile records among a generated workload on a topic that allows 4 MB messages, through {@code
 * kb run} (historical, then drained streaming) on the real local stack: both runs succeed, the
 * views equal the oracle of the valid records, every hostile record is on {@code <topic>.dlq} with
 * its reason, coordinates and headers (the 2 MB one cut to fit, marked as such), and the counters
 * add up.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class HostileInputIT {
  private static final int FOUR_MB = 4 << 20;

  private static ItStack it;

  @BeforeAll
  static void startStack() {
    it = ItStack.start("HostileInputIT");
  }

  @AfterAll
  static void stopStack() {
    if (it != null) {
      it.close();
    }
  }

  /** One record to produce, and what its dead letter must say (null code: it is valid). */
  private record Planned(byte[] key, byte[] value, String traceId, String code) {}

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String event(String id, String user, String type, long ts) {
    return "{\"event_id\":\""
        + id
        + "\",\"user_id\":\""
        + user
        + "\",\"type\":\""
        + type
        + "\",\"ts\":\""
        + Instant.ofEpochMilli(ts)
        + "\"}";
  }

  private static String purchase(String id, String user, String item, String cents, long ts) {
    return "{\"event_id\":\""
        + id
        + "\",\"user_id\":\""
        + user
        + "\",\"type\":\"purchase\",\"item\":\""
        + item
        + "\",\"amount_cents\":"
        + cents
        + ",\"ts\":\""
        + Instant.ofEpochMilli(ts)
        + "\"}";
  }

  /** The hostile records (and valid ones at the caps), stamped near event time {@code ts}. */
  private static List<Planned> hostile(long ts) {
    String tenKb = "R".repeat(10_000);
    String maxAscii = "m".repeat(EventParser.MAX_ID_BYTES);
    String maxMultiByte = "\u00e9".repeat(EventParser.MAX_ID_BYTES / 2); // 2 bytes each
    byte[] twoMb = new byte[2 << 20];
    Arrays.fill(twoMb, (byte) 'x');
    byte[] nineHundredKb = utf8("{\"event_id\":\"" + "y".repeat(900 * 1024));
    byte[] notUtf8 = utf8(event("h-utf8", "u-h", "view", ts));
    notUtf8[25] = (byte) 0xC3;
    String max = Long.toString(Long.MAX_VALUE);
    List<Planned> out = new ArrayList<>();
    out.add(
        new Planned(
            utf8("u-o"), utf8(purchase("h-o1", "u-o", "sku-o", max, ts)), "h1", "invalid_amount"));
    out.add(
        new Planned(
            utf8("u-o"), utf8(purchase("h-o2", "u-o", "sku-o", max, ts)), "h2", "invalid_amount"));
    out.add(new Planned(utf8(tenKb), utf8(event("h-user", tenKb, "view", ts)), "h3", "too_long"));
    out.add(new Planned(utf8("u-h"), utf8(event(tenKb, "u-h", "click", ts)), "h4", "too_long"));
    out.add(
        new Planned(
            utf8("u-h"), utf8(purchase("h-item", "u-h", tenKb, "5", ts)), "h5", "too_long"));
    out.add(new Planned(utf8("u-h"), twoMb, "h6", "too_large"));
    out.add(new Planned(utf8("u-h"), nineHundredKb, "h7", "malformed_json"));
    out.add(new Planned(utf8("u-h"), notUtf8, "h8", "not_utf8"));
    out.add(
        new Planned(utf8("u-h"), utf8("[".repeat(10_000) + "]".repeat(10_000)), "h9", "too_deep"));
    out.add(new Planned(utf8("u-h"), null, "h10", "empty_record"));
    out.add(new Planned(new byte[0], utf8("{\"event_id\":"), "h11", "malformed_json"));
    // valid: an empty key, and ids at the cap (ASCII and two-byte characters)
    out.add(new Planned(new byte[0], utf8(event("h-ok1", "u-h", "view", ts)), "v1", null));
    out.add(
        new Planned(
            utf8(maxAscii),
            utf8(purchase(maxAscii, maxAscii, maxMultiByte, "100000000000", ts)),
            "v2",
            null));
    out.add(
        new Planned(
            utf8(maxMultiByte), utf8(event("h-ok3", maxMultiByte, "cart", ts)), "v3", null));
    return out;
  }

  /** A topic that allows 4 MB messages and the records planned for it, not yet produced. */
  private record Workload(
      String topic,
      List<ProducerRecord<byte[], byte[]>> sends,
      List<Planned> planned,
      int hostileAt,
      Oracle.Result oracleAll,
      Oracle.Result oracleValid) {

    /** Produces {@code sends[from, to)}; returns where they landed. */
    List<RecordMetadata> produce(int from, int to) {
      return it.kafka.produce(
          sends.subList(from, to), Map.of(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, FOUR_MB));
    }

    /** The dead letters expected, by source coordinates, of the records that landed so. */
    Map<String, Planned> expectedDeadLetters(List<RecordMetadata> landed) {
      Map<String, Planned> out = new TreeMap<>();
      for (int i = 0; i < planned.size(); i++) {
        if (planned.get(i).code() != null) {
          out.put(at(landed.get(i).partition(), landed.get(i).offset()), planned.get(i));
        }
      }
      return out;
    }
  }

  private static Workload workload(String name, ViewParameters parameters) throws Exception {
    return workload(name, parameters, WorkloadGenerator.seeded(12L));
  }

  private static Workload workload(
      String name, ViewParameters parameters, WorkloadGenerator generator) throws Exception {
    String topic = uniqueTopic(name);
    it.kafka
        .admin()
        .createTopics(
            List.of(
                new NewTopic(topic, 2, (short) 1)
                    .configs(Map.of("max.message.bytes", Integer.toString(FOUR_MB)))))
        .all()
        .get(30, TimeUnit.SECONDS);
    List<GeneratedRecord> generated =
        generator
            .withCount(1000)
            .withOutOfOrderFraction(0.05)
            .withLateFraction(0.0)
            .withTooLateFraction(0.0)
            .withDuplicateFraction(0.03)
            .withMalformedFraction(0.03)
            .generate();

    // The hostile records go in the middle of the log, at the event time reached there.
    int middle = generated.size() / 2;
    List<Planned> hostile = hostile(generated.get(middle).eventTimeMillis());
    List<ProducerRecord<byte[], byte[]>> sends = new ArrayList<>();
    List<Planned> planned = new ArrayList<>();
    int hostileAt = -1;
    for (int i = 0; i < generated.size(); i++) {
      if (i == middle) {
        hostileAt = sends.size();
        for (Planned h : hostile) {
          List<Header> headers =
              List.of(
                  new RecordHeader("trace-id", utf8(h.traceId())),
                  new RecordHeader("no-value", null));
          sends.add(new ProducerRecord<>(topic, sends.size() % 2, h.key(), h.value(), headers));
          planned.add(h);
        }
      }
      GeneratedRecord r = generated.get(i);
      String code = r.expectedError() == null ? null : r.expectedError().code();
      sends.add(new ProducerRecord<>(topic, sends.size() % 2, r.key(), r.value()));
      planned.add(new Planned(r.key(), r.value(), null, code));
    }
    List<byte[]> all = new ArrayList<>();
    List<byte[]> valid = new ArrayList<>();
    for (Planned p : planned) {
      all.add(p.value());
      if (p.code() == null) {
        valid.add(p.value());
      }
    }
    Oracle.Result oracleAll = Oracle.compute(all, parameters);
    Oracle.Result oracleValid = Oracle.compute(valid, parameters);
    assertEquals(0, oracleValid.deadLettered());
    return new Workload(topic, sends, planned, hostileAt, oracleAll, oracleValid);
  }

  @Test
  void hostileRecordsLandOnTheDeadLetterTopicAndTheRunsGoOn() throws Exception {
    Workload w = workload("hostile", ViewParameters.defaults());
    String topic = w.topic();
    Map<String, Planned> expectedDeadLetters =
        w.expectedDeadLetters(w.produce(0, w.sends().size()));
    Oracle.Result oracleAll = w.oracleAll();
    Oracle.Result oracleValid = w.oracleValid();
    assertEquals(expectedDeadLetters.size(), oracleAll.deadLettered(), "the oracle agrees");
    Map<String, Long> counters = expectedCounters(oracleAll, 0, oracleAll.accepted());
    String dlq = topic + ".dlq";

    InProcessKb.Result historical =
        kbOk(it.stack, "run", "--mode", "historical", "--topic", topic, "--version", "h1");
    assertCounters(counters, historical, "historical h1");
    Map<TopicPartition, Long> afterHistorical = it.kafka.endOffsets(dlq);
    assertDeadLetters(
        it.kafka.read(dlq, Map.of(), afterHistorical), topic, expectedDeadLetters, "h1");
    assertViews(oracleValid, "h1");

    InProcessKb.Result streaming =
        kbOk(
            it.stack,
            "run",
            "--mode",
            "streaming",
            "--drain-when-caught-up",
            "--topic",
            topic,
            "--version",
            "s1");
    assertCounters(counters, streaming, "drained streaming s1");
    assertDeadLetters(
        it.kafka.read(dlq, afterHistorical, it.kafka.endOffsets(dlq)),
        topic,
        expectedDeadLetters,
        "s1");
    assertViews(oracleValid, "s1");
  }

  /**
   * The same hostile records appended to a live topic under an open-ended streaming run ({@code kb
   * run --mode streaming} in a JVM of its own, early panes every second), on DirectRunner and on
   * Flink ({@code [local]} in kb's JVM, checkpoints on): each lands on the dead-letter topic with
   * its reason, coordinates and headers, the job goes on, its views reach the oracle of the valid
   * records and nothing is late; on DirectRunner its published counters add up too (a Flink job's
   * counters reach kb only when it ends, which this one does not).
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"direct", "flink"})
  @Tag("faults")
  void hostileRecordsOnALiveTopicLandOnTheDeadLetterTopicAndTheJobGoesOn(String runner)
      throws Exception {
    String version = runner.equals("direct") ? "l1" : "lf1";
    // As in ServingOutageIT: event times two hours old and 6 h of lateness, so that however the
    // reads interleave with the pause before the second half (idle partitions move the watermark
    // on), nothing is late and every window and session has closed once the job has caught up.
    ViewParameters parameters =
        ViewParameters.defaults()
            .withEarlyFiringInterval(org.joda.time.Duration.standardSeconds(1))
            .withAllowedLateness(org.joda.time.Duration.standardHours(6))
            .withDedupHorizon(org.joda.time.Duration.standardHours(6));
    Workload w =
        workload(
            "hostile-live-" + runner,
            parameters,
            WorkloadGenerator.seeded(12L)
                .withStart(
                    Instant.now()
                        .truncatedTo(java.time.temporal.ChronoUnit.HOURS)
                        .minus(java.time.Duration.ofHours(2)))
                .withEventsPerSecond(2));
    List<RecordMetadata> landed = new ArrayList<>(w.produce(0, w.hostileAt()));
    Path logs = Files.createDirectories(Path.of("target", "it-logs"));
    File log = logs.resolve("HostileInputIT-live-" + System.currentTimeMillis() + ".log").toFile();
    List<String> args =
        kbArgs(
            it.stack,
            "run",
            "--mode",
            "streaming",
            "--topic",
            w.topic(),
            "--version",
            version,
            "--early-firing-interval",
            "PT1S",
            "--allowed-lateness",
            "PT6H",
            "--dedup-horizon",
            "PT6H");
    if (runner.equals("flink")) {
      args.addAll(
          List.of(
              "--runner=FlinkRunner", "--flinkMaster=[local]", "--data-dir=" + it.stack.dataDir()));
    }
    Process run = startKbProcess(args, log);
    try {
      await(
          "the run read the records before the hostile ones",
          () -> recordsRead(it.config, w.topic(), version) >= w.hostileAt(),
          run,
          log);
      landed.addAll(w.produce(w.hostileAt(), w.sends().size()));
      Map<String, Planned> expected = w.expectedDeadLetters(landed);
      String dlq = w.topic() + ".dlq";
      await(
          "all " + expected.size() + " dead letters are on " + dlq,
          () -> it.kafka.readAll(dlq).size() >= expected.size(),
          run,
          log);
      assertDeadLetters(it.kafka.readAll(dlq), w.topic(), expected, "live " + version);
      await(
          "the views equal the oracle of the valid records",
          () ->
              Views.all().stream()
                  .allMatch(
                      v ->
                          ViewDiff.compare(v, w.oracleValid().rows(v), it.store.readAll(v, version))
                              .isEmpty()),
          run,
          log);
      assertViews(w.oracleValid(), version);
      assertEquals(List.of(), it.kafka.readAll(w.topic() + ".late"), "nothing late");
      assertTrue(run.isAlive(), "the job goes on");
      if (runner.equals("flink")) {
        return;
      }
      await(
          "the published counters read every record and add up",
          () -> settledOn(published(version), w.sends().size()),
          run,
          log);
      VersionCounters.Snapshot c = published(version);
      assertEquals(w.oracleAll().deadLettered(), c.get(CounterNames.DEAD_LETTERED), c.toString());
      assertEquals(w.oracleAll().accepted(), c.get(CounterNames.ACCEPTED), c.toString());
      assertEquals(
          w.oracleAll().duplicates(), c.get(CounterNames.DUPLICATES_REMOVED), c.toString());
      assertEquals(0, c.get(CounterNames.LATE), c.toString());
      assertTrue(run.isAlive(), "the job goes on");
    } finally {
      run.destroy();
      assertTrue(run.waitFor(60, TimeUnit.SECONDS), "kb did not stop on SIGTERM");
    }
  }

  private static VersionCounters.Snapshot published(String version) {
    try (VersionCounters counters = new VersionCounters(it.config)) {
      return counters.read(Views.ACTIVITY_PER_MINUTE.name(), version);
    } catch (RuntimeException e) {
      return new VersionCounters.Snapshot(
          Views.ACTIVITY_PER_MINUTE.name(), version, Map.of(), null);
    }
  }

  private static void await(String what, BooleanSupplier condition, Process run, File log)
      throws InterruptedException, IOException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (!condition.getAsBoolean()) {
      if (!run.isAlive()) {
        fail(
            "kb ended (exit "
                + run.exitValue()
                + ") before "
                + what
                + "\n"
                + Files.readString(log.toPath()));
      }
      if (System.nanoTime() > deadline) {
        fail("timed out waiting until " + what + "\n" + Files.readString(log.toPath()));
      }
      Thread.sleep(500);
    }
  }

  private static void assertViews(Oracle.Result oracle, String version) {
    ViewStore store = it.store;
    for (ViewDefinition view : Views.all()) {
      assertRows(
          view,
          oracle.rows(view),
          "oracle of the valid records",
          store.readAll(view, version),
          version);
    }
  }

  private static String at(int partition, long offset) {
    return String.format("%d/%06d", partition, offset);
  }

  /**
   * Exactly the expected dead letters (at least once each), each with its reason, the key, the
   * value (or, for one over the record limit, a prefix with the truncation headers) and the
   * source's headers before the kb.* ones.
   */
  private static void assertDeadLetters(
      List<ConsumerRecord<byte[], byte[]>> deadLetters,
      String topic,
      Map<String, Planned> expected,
      String what)
      throws Exception {
    Map<String, Integer> seen = new TreeMap<>();
    for (ConsumerRecord<byte[], byte[]> d : deadLetters) {
      assertEquals(topic, KafkaTestClient.header(d, KafkaSinks.SOURCE_TOPIC), what);
      String coordinate =
          at(
              Integer.parseInt(KafkaTestClient.header(d, KafkaSinks.SOURCE_PARTITION)),
              Long.parseLong(KafkaTestClient.header(d, KafkaSinks.SOURCE_OFFSET)));
      Planned p = expected.get(coordinate);
      if (p == null) {
        fail(
            what
                + ": unexpected dead letter at "
                + coordinate
                + ": "
                + KafkaTestClient.header(d, KafkaSinks.REASON));
      }
      String where = what + " " + coordinate + " (" + p.traceId() + ")";
      assertEquals(p.code(), KafkaTestClient.header(d, KafkaSinks.ERROR), where);
      assertTrue(KafkaTestClient.header(d, KafkaSinks.REASON).startsWith(p.code() + ": "), where);
      assertArrayEquals(p.key(), d.key(), where + ": key");
      if (p.value() != null && p.value().length > KafkaSinks.DEFAULT_MAX_RECORD_BYTES) {
        assertEquals("true", KafkaTestClient.header(d, KafkaSinks.TRUNCATED), where);
        assertEquals(
            Integer.toString(p.value().length),
            KafkaTestClient.header(d, KafkaSinks.ORIGINAL_SIZE),
            where);
        assertEquals(
            HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(p.value())),
            KafkaTestClient.header(d, KafkaSinks.ORIGINAL_SHA256),
            where);
        assertTrue(d.value().length < KafkaSinks.DEFAULT_MAX_RECORD_BYTES, where);
        assertTrue(d.value().length > KafkaSinks.DEFAULT_MAX_RECORD_BYTES - 4096, where);
        assertArrayEquals(Arrays.copyOf(p.value(), d.value().length), d.value(), where);
      } else {
        assertNull(KafkaTestClient.header(d, KafkaSinks.TRUNCATED), where);
        assertArrayEquals(p.value(), d.value(), where + ": value");
      }
      if (p.traceId() != null) {
        Header[] headers = d.headers().toArray();
        assertEquals("trace-id", headers[0].key(), where);
        assertArrayEquals(utf8(p.traceId()), headers[0].value(), where);
        assertEquals("no-value", headers[1].key(), where);
        assertNull(headers[1].value(), where);
      } else {
        assertNotNull(d.headers().toArray()[0].key());
        assertEquals(
            KafkaSinks.REASON, d.headers().toArray()[0].key(), where + ": no source headers");
      }
      seen.merge(coordinate, 1, Integer::sum);
    }
    assertEquals(expected.keySet(), seen.keySet(), what + ": every rejected record, nothing else");
  }
}
