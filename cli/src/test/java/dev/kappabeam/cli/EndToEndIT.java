package dev.kappabeam.cli;

import static dev.kappabeam.cli.EndToEndSupport.assertCounters;
import static dev.kappabeam.cli.EndToEndSupport.assertPublishedCounters;
import static dev.kappabeam.cli.EndToEndSupport.assertRows;
import static dev.kappabeam.cli.EndToEndSupport.expectedCounters;
import static dev.kappabeam.cli.EndToEndSupport.kb;
import static dev.kappabeam.cli.EndToEndSupport.kbOk;
import static dev.kappabeam.cli.EndToEndSupport.uniqueTopic;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.kappabeam.devstack.LocalStack;
import dev.kappabeam.generator.GeneratedRecord;
import dev.kappabeam.generator.GeneratedRecord.Kind;
import dev.kappabeam.generator.Oracle;
import dev.kappabeam.generator.WorkloadGenerator;
import dev.kappabeam.pipelines.sinks.KafkaSinks;
import dev.kappabeam.serving.ExportFormat;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.events.EventParser;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.Views;
import java.io.File;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.beam.sdk.values.Row;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kb command line end to end on a real local stack (Kafka broker + H2 serving store) and
 * DirectRunner: generated workloads produced to Kafka, {@code kb run} in historical and drained
 * streaming mode, and every result checked against the oracle: view rows, counters, dead letters
 * and late events.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class EndToEndIT {
  private static final Pattern EVENT_ID = Pattern.compile("\"event_id\"\\s*:\\s*\"([^\"]+)\"");

  @TempDir static Path tempDir;

  private static ItStack it;
  private static LocalStack stack;
  private static KafkaTestClient kafka;
  private static ViewStore store;

  @BeforeAll
  static void startStack() {
    it = ItStack.start("EndToEndIT");
    stack = it.stack;
    kafka = it.kafka;
    store = it.store;
  }

  @AfterAll
  static void stopStack() {
    if (it != null) {
      it.close();
    }
  }

  /**
   * A log whose tail repeats earlier event_ids with event times up to a minute behind the watermark
   * (a second generator run with another seed): the drained streaming run must remove exactly the
   * copies the historical run removes, and give the same views. DirectRunner with its default
   * worker pool did not (the last records reached the de-duplication after its watermark had
   * reached the end: 1,002 removed instead of 1,027); kb therefore runs DirectRunner streaming on
   * one worker thread.
   */
  @Test
  void aTailOfRepeatedEventIdsIsDeduplicatedInStreamingAsInHistorical() {
    String topic = uniqueTopic("repeats");
    kbOk(stack, "topics", "create", topic, "--partitions", "3");
    // The same fixed id prefix twice: the second run's event_ids repeat the first run's.
    kbOk(
        stack, "generate", "--topic", topic, "--count", "3000", "--seed", "1", "--id-prefix", "e-");
    kbOk(
        stack, "generate", "--topic", topic, "--count", "1000", "--seed", "2", "--id-prefix", "e-");
    String views = "activity_per_minute,user_sessions";
    InProcessKb.Result historical =
        kbOk(
            stack,
            "run",
            "--mode",
            "historical",
            "--topic",
            topic,
            "--version",
            "th1",
            "--views",
            views);
    InProcessKb.Result streaming =
        kbOk(
            stack,
            "run",
            "--mode",
            "streaming",
            "--drain-when-caught-up",
            "--topic",
            topic,
            "--version",
            "ts1",
            "--views",
            views);
    Map<String, Long> h = historical.counters();
    Map<String, Long> st = streaming.counters();
    assertTrue(h.get("duplicates_removed") > 1000, "the second run repeats the first's ids: " + h);
    for (String counter : List.of("read", "dead_lettered", "duplicates_removed", "accepted")) {
      assertEquals(
          h.get(counter), st.get(counter), counter + ": historical " + h + ", streaming " + st);
    }
    assertEquals(0L, st.get("late"), "nothing is late: " + st);
    // The views are not compared: the second run's copies differ in content (conflicting
    // duplicates, a producer bug), and which copy of such a pair is kept differs by design
    // (bounded: the earliest event time; streaming: the first read). The counts must not.
    assertTrue(st.get("duplicates_conflicting") > 0, "conflicting copies: " + st);
  }

  /**
   * Partitions 0..2 get an uneven share of the log and partition 3 nothing: neither the empty
   * partition nor the skew may hold back or change the streaming answer.
   */
  @Test
  void unevenPartitionsAndAnEmptyOneGiveTheOracleViewsInBothModes() throws IOException {
    String topic = uniqueTopic("uneven");
    kbOk(stack, "topics", "create", topic, "--partitions", "4");
    List<GeneratedRecord> records =
        WorkloadGenerator.seeded(20261125L)
            .withCount(2000)
            .withOutOfOrderFraction(0.05)
            .withLateFraction(0.03)
            .withTooLateFraction(0.0)
            .withDuplicateFraction(0.03)
            .withMalformedFraction(0.03)
            .generate();
    assertKindsPresent(records, Kind.OUT_OF_ORDER, Kind.LATE, Kind.DUPLICATE, Kind.MALFORMED);

    List<ProducerRecord<byte[], byte[]>> sends = new ArrayList<>();
    for (int i = 0; i < records.size(); i++) {
      GeneratedRecord r = records.get(i);
      sends.add(new ProducerRecord<>(topic, unevenPartition(r, i), r.key(), r.value()));
    }
    List<RecordMetadata> landed = produce(sends);
    Map<TopicPartition, Long> ends = kafka.endOffsets(topic);
    long p0 = ends.get(new TopicPartition(topic, 0));
    long p1 = ends.get(new TopicPartition(topic, 1));
    long p2 = ends.get(new TopicPartition(topic, 2));
    assertEquals(0L, ends.get(new TopicPartition(topic, 3)), "partition 3 must stay empty");
    assertTrue(
        p0 > 0 && p1 > 0 && p2 > 0 && p0 != p1 && p1 != p2 && p0 != p2,
        "partitions 0..2 must all hold records, in different numbers: " + ends);
    assertTrue(
        Math.max(p0, Math.max(p1, p2)) >= 2 * Math.min(p0, Math.min(p1, p2)),
        "partitions 0..2 must be clearly uneven: " + ends);

    Map<Coordinate, ExpectedDeadLetter> expectedDeadLetters = new HashMap<>();
    for (int i = 0; i < records.size(); i++) {
      GeneratedRecord r = records.get(i);
      if (r.kind() == Kind.MALFORMED) {
        expectedDeadLetters.put(
            new Coordinate(landed.get(i).partition(), landed.get(i).offset()),
            new ExpectedDeadLetter(r.key(), r.value(), r.expectedError().code()));
      }
    }
    Oracle.Result expected = Oracle.computeFromRecords(records, ViewParameters.defaults());
    Map<String, Long> counters = expectedCounters(expected, 0, expected.accepted());
    String dlq = topic + ".dlq";

    InProcessKb.Result historical =
        kbOk(stack, "run", "--mode", "historical", "--topic", topic, "--version", "h1");
    assertCounters(counters, historical, "historical h1");
    assertPublishedCounters(stack, "h1", counters);
    Map<TopicPartition, Long> dlqAfterHistorical = kafka.endOffsets(dlq);
    assertDeadLetters(
        kafka.read(dlq, Map.of(), dlqAfterHistorical), topic, expectedDeadLetters, "historical h1");

    InProcessKb.Result streaming =
        kbOk(
            stack,
            "run",
            "--mode",
            "streaming",
            "--drain-when-caught-up",
            "--topic",
            topic,
            "--version",
            "s1");
    assertCounters(
        counters,
        streaming,
        "streaming s1 (records on " + topic + ".late: " + lateRecords(kafka, topic) + ")");
    assertDeadLetters(
        kafka.read(dlq, dlqAfterHistorical, kafka.endOffsets(dlq)),
        topic,
        expectedDeadLetters,
        "streaming s1");

    for (ViewDefinition view : Views.all()) {
      List<Row> oracle = expected.rows(view);
      assertTrue(oracle.size() > 1, view.name() + ": the oracle view should not be trivial");
      assertRows(view, oracle, "oracle", store.readAll(view, "h1"), "h1");
      assertRows(view, oracle, "oracle", store.readAll(view, "s1"), "s1");
      InProcessKb.Result verify =
          kbOk(stack, "verify", "--view", view.name(), "--a", "h1", "--b", "s1");
      assertTrue(verify.out().contains("identical"), verify.describe());

      Path exported = tempDir.resolve(topic + "-" + view.name() + ".jsonl");
      kbOk(
          stack,
          "views",
          "export",
          "--view",
          view.name(),
          "--version",
          "s1",
          "--format",
          "jsonl",
          "--out",
          exported.toString());
      StringWriter expectedJsonl = new StringWriter();
      ExportFormat.parse("jsonl").write(view, oracle, expectedJsonl);
      assertEquals(
          expectedJsonl.toString(),
          Files.readString(exported, StandardCharsets.UTF_8),
          view.name() + ": kb views export of s1 vs the oracle's rows in the same format");
    }
  }

  /**
   * A drained streaming job over the first half of a log, then more records, then a resumed job
   * under the same version: the version ends up with the views of the whole log, and resuming once
   * more changes nothing. Re-running a version without --resume is refused. Tagged {@code matrix}
   * (CI runs it with the runner matrix); kappa's VersionRunIT keeps a resume in the default suite.
   */
  @Tag("matrix")
  @Test
  void resumingAVersionAfterMoreRecordsNeitherLosesNorDoubleCounts() {
    String topic = uniqueTopic("restart");
    kbOk(stack, "topics", "create", topic, "--partitions", "3");
    List<GeneratedRecord> records =
        WorkloadGenerator.seeded(77)
            .withCount(1600)
            .withOutOfOrderFraction(0.05)
            .withLateFraction(0.02)
            .withDuplicateFraction(0.03)
            .withMalformedFraction(0.02)
            .generate();
    List<GeneratedRecord> firstHalf = records.subList(0, 800);
    List<GeneratedRecord> secondHalf = records.subList(800, records.size());
    String group = "kappa-beam." + topic + ".r1";
    String[] runR1 = {
      "run", "--mode", "streaming", "--drain-when-caught-up", "--topic", topic, "--version", "r1"
    };

    produce(keyedSends(topic, firstHalf));
    InProcessKb.Result first = kbOk(stack, runR1);
    Oracle.Result expectedFirst = Oracle.computeFromRecords(firstHalf, ViewParameters.defaults());
    assertCounters(
        expectedCounters(expectedFirst, 0, expectedFirst.accepted()), first, "first run of r1");
    for (ViewDefinition view : Views.all()) {
      assertRows(
          view,
          expectedFirst.rows(view),
          "oracle(first half)",
          store.readAll(view, "r1"),
          "r1 after the first run");
    }
    assertEquals(
        kafka.endOffsets(topic),
        kafka.committed(group, topic),
        "a drained run commits the end offsets for its version's consumer group");

    Map<ViewDefinition, List<Row>> beforeRefusal = snapshot("r1");
    InProcessKb.Result refused = kb(stack, runR1);
    assertEquals(3, refused.exitCode(), refused.describe());
    assertEquals(1, refused.errLines().size(), "exactly one line on stderr\n" + refused.describe());
    assertTrue(refused.errLines().get(0).startsWith("kb: error:"), refused.describe());
    assertTrue(refused.errLines().get(0).contains("--resume"), refused.describe());
    assertEquals(beforeRefusal, snapshot("r1"), "a refused run must not touch the version");

    produce(keyedSends(topic, secondHalf));
    String[] resumeR1 = Arrays.copyOf(runR1, runR1.length + 1);
    resumeR1[runR1.length] = "--resume";
    InProcessKb.Result resumed = kbOk(stack, resumeR1);
    Oracle.Result expectedAll = Oracle.computeFromRecords(records, ViewParameters.defaults());
    // --resume rewinds the version's group to --start-from (earliest) and replays the whole log.
    assertCounters(
        expectedCounters(expectedAll, 0, expectedAll.accepted()), resumed, "resumed run of r1");
    for (ViewDefinition view : Views.all()) {
      assertRows(
          view,
          expectedAll.rows(view),
          "oracle(whole log)",
          store.readAll(view, "r1"),
          "r1 after resuming");
    }
    assertEquals(kafka.endOffsets(topic), kafka.committed(group, topic));

    Map<ViewDefinition, List<Row>> afterResume = snapshot("r1");
    InProcessKb.Result again = kbOk(stack, resumeR1);
    assertCounters(
        expectedCounters(expectedAll, 0, expectedAll.accepted()), again, "second resume of r1");
    assertEquals(afterResume, snapshot("r1"), "resuming again must change nothing");
  }

  /**
   * Records later than the allowed lateness: a streaming run sends exactly them to the late topic
   * and leaves them out of its views; a historical run (bounded, nothing is late) keeps them.
   */
  @Test
  void tooLateRecordsLeaveStreamingThroughTheLateTopicButStayInHistorical() {
    String topic = uniqueTopic("toolate");
    kbOk(stack, "topics", "create", topic, "--partitions", "2");
    long seed = 31;
    int count = 2000;
    kbOk(
        stack,
        "generate",
        "--topic",
        topic,
        "--count",
        String.valueOf(count),
        "--seed",
        String.valueOf(seed),
        "--id-prefix",
        WorkloadGenerator.DEFAULT_EVENT_ID_PREFIX, // the records the oracle below is computed from
        "--out-of-order",
        "0.05",
        "--late",
        "0.01",
        "--too-late",
        "0.02",
        "--duplicates",
        "0.02",
        "--malformed",
        "0.02");
    List<GeneratedRecord> records =
        WorkloadGenerator.seeded(seed)
            .withCount(count)
            .withOutOfOrderFraction(0.05)
            .withLateFraction(0.01)
            .withTooLateFraction(0.02)
            .withDuplicateFraction(0.02)
            .withMalformedFraction(0.02)
            .generate();
    assertEquals(
        valueCounts(records.stream().map(GeneratedRecord::value).toList()),
        valueCounts(kafka.readAll(topic).stream().map(ConsumerRecord::value).toList()),
        "kb generate must produce exactly the workload of the same seed and settings");
    List<GeneratedRecord> tooLate =
        records.stream().filter(r -> r.kind() == Kind.TOO_LATE).toList();
    assertTrue(tooLate.size() >= 20, "expected ~2% too-late records, got " + tooLate.size());
    Oracle.Result all = Oracle.computeFromRecords(records, ViewParameters.defaults());

    InProcessKb.Result historical =
        kbOk(stack, "run", "--mode", "historical", "--topic", topic, "--version", "hc1");
    assertCounters(expectedCounters(all, 0, all.accepted()), historical, "historical hc1");

    InProcessKb.Result streaming =
        kbOk(
            stack,
            "run",
            "--mode",
            "streaming",
            "--drain-when-caught-up",
            "--topic",
            topic,
            "--version",
            "sc1");
    Set<String> lateIds = new HashSet<>();
    for (ConsumerRecord<byte[], byte[]> r : kafka.readAll(topic + ".late")) {
      assertEquals("late", KafkaTestClient.header(r, KafkaSinks.REASON));
      assertNotNull(r.value(), "a late record carries the event");
      Matcher m = EVENT_ID.matcher(new String(r.value(), StandardCharsets.UTF_8));
      assertTrue(m.find(), "no event_id in late record " + Arrays.toString(r.value()));
      lateIds.add(m.group(1));
    }
    Set<String> tooLateIds =
        tooLate.stream().map(GeneratedRecord::eventId).collect(Collectors.toSet());

    // First what must hold however many events a run finds late: only too-late events are late,
    // the counter agrees with the late topic, and every event is in exactly one place.
    Set<String> notTooLate = new TreeSet<>(lateIds);
    notTooLate.removeAll(tooLateIds);
    assertEquals(Set.of(), notTooLate, "events sent to the late topic that are not too late");
    assertEquals(
        (long) lateIds.size(),
        streaming.counters().get("late"),
        "the late counter must count the events in the late topic\n" + streaming.out());
    Oracle.Result withoutLateTopic =
        Oracle.computeFromRecords(
            records.stream().filter(r -> !lateIds.contains(r.eventId())).toList(),
            ViewParameters.defaults());
    for (ViewDefinition view : Views.all()) {
      assertRows(view, all.rows(view), "oracle(all records)", store.readAll(view, "hc1"), "hc1");
      assertRows(
          view,
          withoutLateTopic.rows(view),
          "oracle(all records but those in the late topic)",
          store.readAll(view, "sc1"),
          "sc1");
    }

    // Which too-late events a streaming replay finds late depends on how the partitions' reads
    // interleave: the watermark is the minimum over partitions, and a partition not read yet holds
    // it back (README, "Late data in replays"). What is late is always exactly the difference.
    assertCounters(
        expectedCounters(all, lateIds.size(), all.accepted() - lateIds.size()),
        streaming,
        "streaming sc1");
    // Too-late events fall 2-3 h before the rest, into minutes nothing else is in: verify shows
    // exactly the rows the late events would have made.
    InProcessKb.Result verify =
        kb(stack, "verify", "--view", "activity_per_minute", "--a", "hc1", "--b", "sc1");
    assertEquals(
        lateIds.isEmpty() ? 0 : 1, verify.exitCode(), "verify exit code\n" + verify.describe());
  }

  /**
   * Records written by another Kafka client (kcat, librdkafka): its keys, its partitioner, a record
   * without a key, non-ASCII text, malformed lines. Both modes must give the oracle's views and the
   * dead letters must point at kcat's records.
   */
  @Test
  void recordsProducedByKcatGiveTheOracleViewsInBothModes() throws Exception {
    String kcat = kcat();
    String topic = uniqueTopic("kcat");
    kbOk(stack, "topics", "create", topic, "--partitions", "2");
    long epochTs = Instant.parse("2026-11-25T10:00:20.000Z").toEpochMilli();
    List<String[]> lines =
        List.of(
            kv(
                "u-1",
                "{\"event_id\":\"k-01\",\"user_id\":\"u-1\",\"type\":\"view\",\"ts\":\"2026-11-25T10:00:00.000Z\"}"),
            kv(
                "u-Zoë-7",
                "{\"event_id\":\"k-02\",\"user_id\":\"u-Zoë-7\",\"type\":\"purchase\",\"item\":\"sku-日本-3\",\"amount_cents\":1299,\"ts\":\"2026-11-25T10:00:01.500Z\"}"),
            kv(
                "u-2",
                "{\"event_id\":\"k-03\",\"user_id\":\"u-2\",\"type\":\"click\",\"ts\":"
                    + epochTs
                    + "}"),
            kv(
                "u-1",
                "{\"event_id\":\"k-04\",\"user_id\":\"u-1\",\"type\":\"cart\",\"item\":\"sku-5\",\"ts\":\"2026-11-25T11:00:30.250+01:00\"}"),
            kv(
                "u-Zoë-7",
                "{\"ts\":\"2026-11-25T10:01:05Z\",\"type\":\"view\",\"user_id\":\"u-Zoë-7\",\"event_id\":\"k-05\"}"),
            kv(
                "u-3",
                "{\"event_id\":\"k-06\",\"user_id\":\"u-3\",\"type\":\"purchase\",\"item\":\"sku-5\",\"amount_cents\":500,\"ts\":\"2026-11-25T10:01:30Z\",\"source\":\"kcat\",\"meta\":{\"n\":[1,2]}}"),
            kv(
                "u-1",
                "{\"event_id\":\"k-01\",\"user_id\":\"u-1\",\"type\":\"view\",\"ts\":\"2026-11-25T10:00:00.000Z\"}"),
            kv(
                "u-2",
                "{\"event_id\":\"k-07\",\"user_id\":\"u-2\",\"type\":\"refund\",\"ts\":\"2026-11-25T10:02:00Z\"}"),
            kv("u-3", "{\"event_id\":\"k-08\",\"user_id\":\"u-3\",\"type\":\"click\",\"ts\":"),
            kv(null, "this is not JSON, but ünïcödé text"),
            kv(
                "u-1",
                "{\"event_id\":\"k-09\",\"user_id\":\"u-1\",\"type\":\"view\",\"ts\":\"2026-11-25T10:40:00Z\"}"),
            kv(
                "u-Zoë-7",
                "{\"event_id\":\"k-10\",\"user_id\":\"u-Zoë-7\",\"type\":\"purchase\",\"item\":\"sku-café-9\",\"amount_cents\":250,\"ts\":\"2026-11-25T10:40:10Z\"}"),
            kv(
                "u-2",
                "{\"event_id\":\"k-11\",\"user_id\":\"u-2\",\"type\":\"click\",\"ts\":\"2026-11-25T10:02:00Z\"}"),
            kv("u-4", "{\"event_id\":\"k-12\",\"user_id\":\"u-4\",\"type\":\"view\"}"),
            kv(
                "u-4",
                "{\"event_id\":\"k-13\",\"user_id\":\"u-4\",\"type\":\"view\",\"ts\":\"2026-11-25T10:41:00Z\"}"),
            kv(
                "u-Мария-57",
                "{\"event_id\":\"k-14\",\"user_id\":\"u-Мария-57\",\"type\":\"click\",\"item\":\"sku-☕-1\",\"ts\":\"2026-11-25T10:41:30Z\"}"));
    StringBuilder file = new StringBuilder();
    List<byte[]> values = new ArrayList<>();
    for (String[] line : lines) {
      file.append(line[0] == null ? "" : line[0] + "\t").append(line[1]).append('\n');
      values.add(line[1].getBytes(StandardCharsets.UTF_8));
    }
    Path input = tempDir.resolve(topic + ".kv");
    Files.writeString(input, file, StandardCharsets.UTF_8);

    Process p =
        new ProcessBuilder(
                kcat,
                "-P",
                "-b",
                stack.bootstrapServers(),
                "-t",
                topic,
                "-K",
                "\\t",
                "-l",
                input.toString())
            .redirectErrorStream(true)
            .start();
    boolean exited = p.waitFor(60, TimeUnit.SECONDS);
    String kcatOutput = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!exited) {
      p.destroyForcibly();
      fail("kcat did not finish within 60 s: " + kcatOutput);
    }
    assertEquals(0, p.exitValue(), "kcat failed: " + kcatOutput);

    List<ConsumerRecord<byte[], byte[]>> produced = kafka.readAll(topic);
    assertEquals(
        valueCounts(values), valueCounts(produced.stream().map(ConsumerRecord::value).toList()));
    Map<Coordinate, ExpectedDeadLetter> expectedDeadLetters = new HashMap<>();
    Set<String> keysSeen = new HashSet<>();
    for (ConsumerRecord<byte[], byte[]> r : produced) {
      if (r.key() != null) {
        keysSeen.add(new String(r.key(), StandardCharsets.UTF_8));
      }
      EventParser.Result parsed = EventParser.parse(r.value());
      if (!parsed.isValid()) {
        expectedDeadLetters.put(
            new Coordinate(r.partition(), r.offset()),
            new ExpectedDeadLetter(r.key(), r.value(), parsed.error().code()));
      }
    }
    assertTrue(keysSeen.contains("u-Zoë-7"), "kcat keeps the UTF-8 key: " + keysSeen);
    assertEquals(4, expectedDeadLetters.size(), "the malformed lines: " + expectedDeadLetters);
    assertEquals(
        Set.of("invalid_type", "malformed_json", "missing_field"),
        expectedDeadLetters.values().stream()
            .map(ExpectedDeadLetter::code)
            .collect(Collectors.toSet()));

    Oracle.Result expected = Oracle.compute(values, ViewParameters.defaults());
    assertEquals(1, expected.duplicates());
    Map<String, Long> counters = expectedCounters(expected, 0, expected.accepted());
    String dlq = topic + ".dlq";

    InProcessKb.Result historical =
        kbOk(stack, "run", "--mode", "historical", "--topic", topic, "--version", "kh1");
    assertCounters(counters, historical, "historical kh1");
    Map<TopicPartition, Long> dlqAfterHistorical = kafka.endOffsets(dlq);
    assertDeadLetters(
        kafka.read(dlq, Map.of(), dlqAfterHistorical),
        topic,
        expectedDeadLetters,
        "historical kh1");

    InProcessKb.Result streaming =
        kbOk(
            stack,
            "run",
            "--mode",
            "streaming",
            "--drain-when-caught-up",
            "--topic",
            topic,
            "--version",
            "ks1");
    assertCounters(counters, streaming, "streaming ks1");
    assertDeadLetters(
        kafka.read(dlq, dlqAfterHistorical, kafka.endOffsets(dlq)),
        topic,
        expectedDeadLetters,
        "streaming ks1");

    for (ViewDefinition view : Views.all()) {
      assertRows(view, expected.rows(view), "oracle", store.readAll(view, "kh1"), "kh1");
      assertRows(view, expected.rows(view), "oracle", store.readAll(view, "ks1"), "ks1");
    }
    List<String> sessionUsers =
        expected.rows(Views.USER_SESSIONS).stream().map(r -> r.getString("user_id")).toList();
    assertTrue(sessionUsers.contains("u-Мария-57"), "non-ASCII user in the views: " + sessionUsers);
    assertEquals(2, sessionUsers.stream().filter("u-1"::equals).count(), "u-1 has two sessions");
  }

  // ---------------------------------------------------------------------------------------------

  /** Where a source record is: the dead-letter headers must point here. */
  private record Coordinate(int partition, long offset) {}

  /** What the dead letter of a source record must carry. */
  private record ExpectedDeadLetter(byte[] key, byte[] value, String code) {
    @Override
    public String toString() {
      return code + " " + (value == null ? "null" : new String(value, StandardCharsets.UTF_8));
    }
  }

  /**
   * Every dead letter must point at a malformed source record and carry its key and value bytes
   * unchanged and the expected error; every malformed record must have a dead letter. (The sink is
   * at least once, so a record may appear twice, but never with other content.)
   */
  /** The late topic's records as partition/offset: value, for failure messages. */
  private static String lateRecords(KafkaTestClient kafka, String topic) {
    StringBuilder b = new StringBuilder();
    for (ConsumerRecord<byte[], byte[]> r : kafka.readAll(topic + ".late")) {
      b.append("\n  ")
          .append(r.partition())
          .append('/')
          .append(r.offset())
          .append(' ')
          .append(r.value() == null ? "null" : new String(r.value(), StandardCharsets.UTF_8));
    }
    return b.length() == 0 ? "none" : b.toString();
  }

  private static void assertDeadLetters(
      List<ConsumerRecord<byte[], byte[]>> deadLetters,
      String sourceTopic,
      Map<Coordinate, ExpectedDeadLetter> expected,
      String what) {
    Set<Coordinate> seen = new HashSet<>();
    for (ConsumerRecord<byte[], byte[]> d : deadLetters) {
      assertEquals(sourceTopic, KafkaTestClient.header(d, KafkaSinks.SOURCE_TOPIC), what);
      String partition = KafkaTestClient.header(d, KafkaSinks.SOURCE_PARTITION);
      String offset = KafkaTestClient.header(d, KafkaSinks.SOURCE_OFFSET);
      assertNotNull(partition, what + ": dead letter without " + KafkaSinks.SOURCE_PARTITION);
      assertNotNull(offset, what + ": dead letter without " + KafkaSinks.SOURCE_OFFSET);
      Coordinate at = new Coordinate(Integer.parseInt(partition), Long.parseLong(offset));
      ExpectedDeadLetter e = expected.get(at);
      if (e == null) {
        fail(
            what
                + ": dead letter for "
                + at
                + ", which is not a malformed record; reason "
                + KafkaTestClient.header(d, KafkaSinks.REASON));
      }
      assertArrayEquals(e.value(), d.value(), what + ": value bytes of the dead letter for " + at);
      assertArrayEquals(e.key(), d.key(), what + ": key bytes of the dead letter for " + at);
      assertEquals(e.code(), KafkaTestClient.header(d, KafkaSinks.ERROR), what + " at " + at);
      String reason = KafkaTestClient.header(d, KafkaSinks.REASON);
      assertTrue(
          reason != null && reason.startsWith(e.code() + ":"),
          what + ": reason '" + reason + "' must start with the code " + e.code());
      seen.add(at);
    }
    assertEquals(
        sorted(expected.keySet()),
        sorted(seen),
        what + ": the dead-letter topic must hold exactly the malformed records");
  }

  private static SortedSet<String> sorted(Set<Coordinate> coordinates) {
    SortedSet<String> out = new TreeSet<>();
    for (Coordinate c : coordinates) {
      out.add(String.format("partition %d offset %06d", c.partition(), c.offset()));
    }
    return out;
  }

  /**
   * Partitions 0..2 weighted about 6:3:1 by a hash of the key; records without a key spread over
   * 0..2 by position. Partition 3 gets nothing.
   */
  private static int unevenPartition(GeneratedRecord r, int position) {
    byte[] key = r.key();
    if (key == null) {
      return position % 3;
    }
    int bucket = Math.floorMod(Arrays.hashCode(key) * 31 + 7, 10);
    return bucket < 6 ? 0 : bucket < 9 ? 1 : 2;
  }

  private static List<ProducerRecord<byte[], byte[]>> keyedSends(
      String topic, List<GeneratedRecord> records) {
    List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>();
    for (GeneratedRecord r : records) {
      out.add(new ProducerRecord<>(topic, r.key(), r.value()));
    }
    return out;
  }

  /**
   * Produces and waits for the acks; on failure says whether the broker is up and what it logged.
   */
  private static List<RecordMetadata> produce(List<ProducerRecord<byte[], byte[]>> records) {
    try {
      return kafka.produce(records);
    } catch (IllegalStateException e) {
      String log;
      try {
        List<String> lines = Files.readAllLines(stack.brokerLog(), StandardCharsets.UTF_8);
        log = String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
      } catch (IOException io) {
        log = "(cannot read " + stack.brokerLog() + ": " + io + ")";
      }
      throw new AssertionError(
          e.getMessage()
              + "\nbroker alive: "
              + stack.isBrokerAlive()
              + "; last lines of "
              + stack.brokerLog()
              + ":\n"
              + log,
          e);
    }
  }

  private static Map<ViewDefinition, List<Row>> snapshot(String version) {
    Map<ViewDefinition, List<Row>> out = new LinkedHashMap<>();
    for (ViewDefinition v : Views.all()) {
      out.put(v, store.readAll(v, version));
    }
    return out;
  }

  private static void assertKindsPresent(List<GeneratedRecord> records, Kind... kinds) {
    Set<Kind> present = EnumSet.noneOf(Kind.class);
    records.forEach(r -> present.add(r.kind()));
    for (Kind k : kinds) {
      assertTrue(present.contains(k), "the workload should contain " + k + ", has " + present);
    }
    assertNotEquals(0, records.size());
  }

  /** Values as a multiset; a null value is not an empty one. */
  private static Map<String, Long> valueCounts(List<byte[]> values) {
    Map<String, Long> out = new TreeMap<>();
    for (byte[] v : values) {
      out.merge(
          v == null ? "null" : "bytes:" + Base64.getEncoder().encodeToString(v), 1L, Long::sum);
    }
    return out;
  }

  private static String[] kv(String key, String value) {
    return new String[] {key, value};
  }

  /**
   * The kcat binary; fails when it is not installed, so CI cannot pass without this test, unless
   * {@code KB_SKIP_KCAT=1} (which scripts/test sets when it cannot install kcat) skips it.
   */
  private static String kcat() {
    assumeFalse("1".equals(System.getenv("KB_SKIP_KCAT")), "KB_SKIP_KCAT=1: kcat test skipped");
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      for (String name : List.of("kcat", "kafkacat")) {
        Path candidate = Path.of(dir, name);
        if (Files.isExecutable(candidate)) {
          return candidate.toString();
        }
      }
    }
    fail(
        "kcat is not installed (needed to prove records from another Kafka client work):"
            + " install it with `apt-get install -y kcat` (scripts/test does so when it can),"
            + " or set KB_SKIP_KCAT=1 to skip this test");
    return null;
  }
}
