package dev.kappabeam.cli;

import static dev.kappabeam.cli.EndToEndSupport.kb;
import static dev.kappabeam.cli.EndToEndSupport.kbArgs;
import static dev.kappabeam.cli.EndToEndSupport.kbOk;
import static dev.kappabeam.cli.EndToEndSupport.startKbProcess;
import static dev.kappabeam.cli.EndToEndSupport.uniqueTopic;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.archive.ArchiveFiles;
import dev.kappabeam.archive.ArchiveLayout;
import dev.kappabeam.archive.ArchiveRecords;
import dev.kappabeam.archive.Manifest;
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
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
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
