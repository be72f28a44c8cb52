package dev.kappabeam.cli;

import static dev.kappabeam.cli.EndToEndSupport.kb;
import static dev.kappabeam.cli.EndToEndSupport.kbArgs;
import static dev.kappabeam.cli.EndToEndSupport.kbOk;
import static dev.kappabeam.cli.EndToEndSupport.startKbProcess;
import static dev.kappabeam.cli.EndToEndSupport.uniqueTopic;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.archive.ArchiveFiles;
import dev.kappabeam.archive.ArchiveLayout;
import dev.kappabeam.archive.ArchiveRecords;
import dev.kappabeam.archive.Manifest;
import dev.kappabeam.generator.GeneratedRecord;
import dev.kappabeam.generator.Oracle;
import dev.kappabeam.generator.WorkloadGenerator;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.Views;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kb archive} end to end: killed with {@code kill -9} while it writes, the manifest names
 * complete files only; the re-run completes the archive with every record of the topic once,
 * unchanged; {@code kb archive status} shows the ranges with no gap; usage errors exit 2, an empty
 * archive 3.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ArchiveIT {
  private static ItStack it;

  @BeforeAll
  static void start() {
    it = ItStack.start("ArchiveIT");
  }

  @AfterAll
  static void stop() {
    if (it != null) {
      it.close();
    }
  }

  /** A crash test (tag faults: CI runs it; archive/'s ArchiverIT covers the archive's contents). */
  @org.junit.jupiter.api.Tag("faults")
  @Test
  void aKilledArchiveNamesCompleteFilesOnlyAndTheRerunArchivesEveryRecordOnce(@TempDir Path archive)
      throws Exception {
    String topic = uniqueTopic("archive");
    it.kafka.admin().createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get();
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    for (int i = 0; i < 200_000; i++) {
      records.add(
          new ProducerRecord<>(
              topic,
              i % 2,
              ("k" + i).getBytes(StandardCharsets.UTF_8),
              ("{\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8)));
    }
    it.kafka.produce(records);
    List<String> args =
        kbArgs(
            it.stack,
            "archive",
            "--topic",
            topic,
            "--to",
            archive.toString(),
            "--file-records",
            "500");

    // kill -9 once the first files are in place.
    Path log = archive.getParent().resolve("archive-" + topic + ".log");
    Process p = startKbProcess(args, log.toFile());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (parquetFiles(archive.resolve(topic)).size() < 3 && System.nanoTime() < deadline) {
      assertTrue(p.isAlive(), "kb archive ended before the kill:\n" + Files.readString(log));
      Thread.sleep(20);
    }
    assertTrue(p.isAlive(), "kb archive ended before the kill:\n" + Files.readString(log));
    p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    ArchiveLayout layout = ArchiveLayout.at(archive.toString());
    Manifest afterKill = Manifest.read(layout, topic);
    for (List<Manifest.Range> ranges : afterKill.partitions().values()) {
      for (Manifest.Range r : ranges) {
        assertEquals(r.records(), ArchiveFiles.read(layout.file(topic, r.file())).size(), r.file());
      }
    }

    // The re-run: complete, every record once, as Kafka holds it.
    InProcessKb.Result rerun = kbOk(it.stack, args.subList(0, 7).toArray(new String[0]));
    assertTrue(rerun.out().contains("archived: " + topic), rerun.describe());
    Manifest manifest = Manifest.read(layout, topic);
    Map<String, byte[]> kafka = new HashMap<>();
    for (ConsumerRecord<byte[], byte[]> r : it.kafka.readAll(topic)) {
      kafka.put(r.partition() + "/" + r.offset(), r.value());
    }
    int archived = 0;
    for (int partition = 0; partition < 2; partition++) {
      List<GenericRecord> rows = ArchiveFiles.read(layout, manifest, partition);
      for (int i = 0; i < rows.size(); i++) {
        GenericRecord row = rows.get(i);
        assertEquals(
            (long) i, row.get("offset"), "partition " + partition + ": offsets in order, once");
        assertArrayEquals(
            kafka.get(partition + "/" + i), ArchiveRecords.bytes(row.get("value")), "value");
      }
      archived += rows.size();
    }
    assertEquals(records.size(), archived);

    InProcessKb.Result status = kbOk(it.stack, "archive", "status", "--to", archive.toString());
    List<String> lines = status.out().lines().toList();
    assertEquals(
        "topic\tpartition\tarchived\tfiles\trecords\tkafka_log_start\tkafka_end\tgaps",
        lines.get(0));
    assertEquals(topic + "\t0\t[0,100000)\t200\t100000\t0\t100000\tnone", lines.get(1));
    assertEquals(topic + "\t1\t[0,100000)\t200\t100000\t0\t100000\tnone", lines.get(2));
  }

  /**
   * Kappa+ on DirectRunner: a topic archived, then the head of every partition deleted from Kafka.
   * A replay without the archive says where it starts and misses the head; with {@code --archive}
   * it reads the archive below Kafka's first offsets and Kafka from there, and equals the oracle of
   * the whole log. An archive with a hole below Kafka's first offset is refused (exit 3, the
   * partition and the offsets missing).
   */
  @Test
  void aReplayFromTheArchiveAndKafkaEqualsTheOracleOfTheWholeLog(@TempDir Path archive)
      throws Exception {
    replayEqualsTheOracle(archive, List.of());
  }

  /** The same replay on Flink (the archive read in Flink's task slots); tag matrix. */
  @org.junit.jupiter.api.Tag("matrix")
  @Test
  void aReplayFromTheArchiveAndKafkaOnFlinkEqualsTheOracleOfTheWholeLog(@TempDir Path archive)
      throws Exception {
    replayEqualsTheOracle(
        archive,
        List.of(
            "--runner=FlinkRunner", "--flinkMaster=[local]", "--data-dir=" + it.stack.dataDir()));
  }

  private static void replayEqualsTheOracle(Path archive, List<String> runner) throws Exception {
    String v = runner.isEmpty() ? "d" : "f"; // versions (tables) of one runner's run
    String topic = uniqueTopic("kappa-plus");
    it.kafka.admin().createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get();
    List<GeneratedRecord> records =
        WorkloadGenerator.seeded(31)
            .withCount(1200)
            .withDuplicateFraction(0.03)
            .withMalformedFraction(0.02)
            .generate();
    List<ProducerRecord<byte[], byte[]>> sends = new ArrayList<>();
    records.forEach(r -> sends.add(new ProducerRecord<>(topic, r.key(), r.value())));
    it.kafka.produce(sends);
    kbOk(
        it.stack,
        with(
            runner,
            "archive",
            "--topic",
            topic,
            "--to",
            archive.toString(),
            "--file-records",
            "100"));
    Map<TopicPartition, RecordsToDelete> head = new HashMap<>();
    it.kafka
        .endOffsets(topic)
        .forEach((tp, end) -> head.put(tp, RecordsToDelete.beforeOffset(end / 2)));
    it.kafka.admin().deleteRecords(head).all().get();

    InProcessKb.Result kafkaOnly =
        kbOk(
            it.stack,
            with(runner, "run", "--mode", "historical", "--topic", topic, "--version", v + "k0"));
    assertTrue(
        kafkaOnly.err().contains("kb: warning: partition 0 of " + topic + " starts at offset"),
        kafkaOnly.describe());
    Oracle.Result oracle = Oracle.computeFromRecords(records, ViewParameters.defaults());
    assertNotEquals(
        oracle.rows(Views.ACTIVITY_PER_MINUTE),
        it.store.readAll(Views.ACTIVITY_PER_MINUTE, v + "k0"),
        "without the archive the head is missing");

    // Historical, then the drained streaming replay (Kappa's engine: each partition read across
    // the seam in order), both from the archive and Kafka.
    InProcessKb.Result replay =
        replayFromArchive(runner, archive, topic, v + "k1", oracle, records.size(), "historical");
    assertFalse(replay.err().contains("warning"), replay.describe());
    replayFromArchive(
        runner,
        archive,
        topic,
        v + "k2",
        oracle,
        records.size(),
        "streaming",
        "--drain-when-caught-up");

    // The Lambda batch layer from the archive and Kafka: its table is the whole log's view.
    InProcessKb.Result batch =
        kbOk(
            it.stack,
            with(
                runner,
                "batch",
                "--view",
                Views.ITEM_REVENUE_HOURLY.name(),
                "--topic",
                topic,
                "--archive",
                archive.toString()));
    java.util.regex.Matcher cutoff =
        java.util.regex.Pattern.compile("cutoff (\\d+) ").matcher(batch.out());
    assertTrue(cutoff.find(), batch.describe());
    EndToEndSupport.assertRows(
        Views.ITEM_REVENUE_HOURLY,
        oracle.rows(Views.ITEM_REVENUE_HOURLY),
        "oracle(whole log)",
        it.store.readAll(Views.ITEM_REVENUE_HOURLY, "lambda_b" + cutoff.group(1)),
        "the batch layer");

    // A hole: partition 0's head deleted before it was ever archived.
    String holed = uniqueTopic("kappa-plus-hole");
    it.kafka.admin().createTopics(List.of(new NewTopic(holed, 1, (short) 1))).all().get();
    List<ProducerRecord<byte[], byte[]>> few = new ArrayList<>();
    records
        .subList(0, 40)
        .forEach(r -> few.add(new ProducerRecord<>(holed, 0, r.key(), r.value())));
    it.kafka.produce(few);
    it.kafka
        .admin()
        .deleteRecords(Map.of(new TopicPartition(holed, 0), RecordsToDelete.beforeOffset(10)))
        .all()
        .get();
    InProcessKb.Result gap =
        kbOk(it.stack, "archive", "--topic", holed, "--to", archive.toString());
    assertTrue(gap.err().contains("offsets [0, 10) were deleted"), gap.describe());
    InProcessKb.Result refused =
        kb(
            it.stack,
            "run",
            "--mode",
            "historical",
            "--topic",
            holed,
            "--version",
            v + "h1",
            "--archive",
            archive.toString());
    assertEquals(ExitCodes.ENVIRONMENT, refused.exitCode(), refused.describe());
    assertTrue(
        refused
            .err()
            .contains("partition 0 from offset 0: offsets [0, 10) are neither in the archive"),
        refused.describe());
  }

  /** kb run of {@code mode} with --archive; all records read, every view = the oracle. */
  private static InProcessKb.Result replayFromArchive(
      List<String> runner,
      Path archive,
      String topic,
      String version,
      Oracle.Result oracle,
      int records,
      String... mode) {
    List<String> args = new ArrayList<>(List.of("run", "--mode"));
    args.addAll(List.of(mode));
    args.addAll(List.of("--topic", topic, "--version", version, "--archive", archive.toString()));
    InProcessKb.Result r = kbOk(it.stack, with(runner, args.toArray(new String[0])));
    assertTrue(r.out().contains("read=" + records), r.describe());
    for (ViewDefinition view : Views.all()) {
      EndToEndSupport.assertRows(
          view, oracle.rows(view), "oracle(whole log)", it.store.readAll(view, version), version);
    }
    return r;
  }

  private static String[] with(List<String> runner, String... args) {
    List<String> out = new ArrayList<>(List.of(args));
    out.addAll(runner);
    return out.toArray(new String[0]);
  }

  @Test
  void usageErrorsExitTwoAndAnEmptyArchiveThree(@TempDir Path empty) {
    InProcessKb.Result noTopic = kb(it.stack, "archive", "--to", empty.toString());
    assertEquals(ExitCodes.USAGE, noTopic.exitCode(), noTopic.describe());
    assertTrue(noTopic.err().contains("needs --topic and --to"), noTopic.describe());
    InProcessKb.Result nothing = kb(it.stack, "archive", "status", "--to", empty.toString());
    assertEquals(ExitCodes.ENVIRONMENT, nothing.exitCode(), nothing.describe());
    assertTrue(nothing.err().contains("no archived topic under"), nothing.describe());
  }

  private static List<Path> parquetFiles(Path dir) throws Exception {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(f -> f.getFileName().toString().endsWith(".parquet")).toList();
    }
  }
}
