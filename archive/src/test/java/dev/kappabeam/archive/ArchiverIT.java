package dev.kappabeam.archive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.devstack.LocalStack;
import dev.kappabeam.pipelines.kafka.KafkaClientConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The archiver against a real broker, on DirectRunner, into a local folder: every record of the
 * topic lands unchanged (key, value, headers, Kafka timestamp, coordinates) in the files the
 * manifest names, once; a second run has nothing to do; new records are added as new ranges; a
 * crashed run's leftovers are never named; the status shows a deleted head as archived, not lost.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class ArchiverIT {
  private static LocalStack stack;
  private static KafkaClientConfig kafka;
  private static final String TOPIC = "archive-it";
  private static final List<ProducerRecord<byte[], byte[]>> produced = new ArrayList<>();

  @BeforeAll
  static void start() {
    Path dir = Path.of("target", "it-stacks", "ArchiverIT-" + System.currentTimeMillis());
    stack = LocalStack.start(LocalStack.Config.of(dir).withFreePorts());
    stack.ensureTopic(TOPIC, 2);
    kafka = KafkaClientConfig.of(stack.bootstrapServers());
  }

  @AfterAll
  static void stop() {
    if (stack != null) {
      stack.close();
    }
  }

  @Test
  void archivesEveryRecordOnceUnchangedAndOnlyWhatIsNewOnTheNextRun(@TempDir Path archive)
      throws Exception {
    ArchiveLayout layout = ArchiveLayout.at(archive.toString());
    produce(0, 230);
    List<String> lines = new ArrayList<>();

    ArchiveRun.Result first = ArchiveRun.run(options(), kafka, layout, TOPIC, 50, lines::add);
    assertEquals(230, first.plan().offsets());
    assertArchiveHoldsExactly(layout, produced);
    assertEquals(230, totalRecords(first.manifest()));

    // Nothing new: nothing planned, the manifest and the files stay as they are.
    List<Path> files = files(archive);
    ArchiveRun.Result again = ArchiveRun.run(options(), kafka, layout, TOPIC, 50, lines::add);
    assertEquals(List.of(), again.plan().chunks());
    assertEquals(first.manifest(), again.manifest());
    assertEquals(files, files(archive));
    assertTrue(lines.stream().anyMatch(l -> l.contains("is up to date")), lines::toString);

    // A crashed run's leftovers: a temporary file and a complete file the manifest never named.
    Path leftovers = archive.resolve(TOPIC).resolve("partition=0");
    Files.writeString(leftovers.resolve(".stray-crashed.tmp"), "partial");
    Files.writeString(
        leftovers.resolve(ArchiveLayout.fileName(0, 999, 1000).split("/")[1]), "not parquet");

    // New records: archived as new ranges after the manifest's ends, in files cut at 50.
    produce(230, 260);
    ArchiveRun.Result third = ArchiveRun.run(options(), kafka, layout, TOPIC, 50, lines::add);
    assertEquals(30, third.plan().offsets());
    assertArchiveHoldsExactly(layout, produced);
    for (Map.Entry<Integer, List<Manifest.Range>> p : third.manifest().partitions().entrySet()) {
      List<Manifest.Range> ranges = p.getValue();
      for (int i = 1; i < ranges.size(); i++) {
        assertEquals(ranges.get(i - 1).to(), ranges.get(i).from(), "contiguous: " + ranges);
      }
      assertTrue(
          ranges.stream().allMatch(r -> r.from() / 50 == (r.to() - 1) / 50),
          "no file crosses a multiple of 50: " + ranges);
    }

    // Retention deletes the head of partition 0: archived, so the status shows no gap.
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", stack.bootstrapServers()))) {
      admin
          .deleteRecords(Map.of(new TopicPartition(TOPIC, 0), RecordsToDelete.beforeOffset(100)))
          .all()
          .get();
    }
    ArchiveRun.LogOffsets log = ArchiveRun.LogOffsets.of(kafka, TOPIC);
    List<ArchiveStatus> status =
        ArchiveStatus.of(Manifest.read(layout, TOPIC), log.start(), log.end());
    assertEquals(100, status.get(0).logStart());
    assertEquals(List.of(), status.get(0).gaps());
    assertEquals("[0," + log.end().get(0) + ")", ArchiveStatus.describe(status.get(0).archived()));
  }

  /** Records with and without keys, values and headers, with their own timestamps. */
  private static void produce(int from, int to) throws Exception {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (int i = from; i < to; i++) {
        byte[] key = i % 7 == 0 ? null : ("k-" + i).getBytes(StandardCharsets.UTF_8);
        byte[] value = i % 11 == 0 ? null : ("{\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8);
        ProducerRecord<byte[], byte[]> r =
            new ProducerRecord<>(TOPIC, i % 2, 1_700_000_000_000L + i * 1000L, key, value);
        if (i % 3 == 0) {
          r.headers().add(new RecordHeader("trace", ("t-" + i).getBytes(StandardCharsets.UTF_8)));
          r.headers().add(new RecordHeader("empty", null));
        }
        producer.send(r).get();
        produced.add(r);
      }
    }
  }

  private static PipelineOptions options() {
    return PipelineOptionsFactory.fromArgs("--runner=DirectRunner").create();
  }

  /** Reads every file the manifest names and compares them with what was produced. */
  private static void assertArchiveHoldsExactly(
      ArchiveLayout layout, List<ProducerRecord<byte[], byte[]>> expected) throws Exception {
    Manifest manifest = Manifest.read(layout, TOPIC);
    Map<Integer, List<GenericRecord>> archived = new TreeMap<>();
    for (List<Manifest.Range> ranges : manifest.partitions().values()) {
      for (Manifest.Range r : ranges) {
        List<GenericRecord> rows = ArchiveFiles.read(layout.file(TOPIC, r.file()));
        assertEquals(r.records(), rows.size(), r.toString());
        for (GenericRecord row : rows) {
          long offset = (Long) row.get("offset");
          assertTrue(r.from() <= offset && offset < r.to(), offset + " in " + r);
        }
        archived.computeIfAbsent(r.partition(), k -> new ArrayList<>()).addAll(rows);
      }
    }
    Map<Integer, List<ProducerRecord<byte[], byte[]>>> byPartition = new TreeMap<>();
    expected.forEach(
        e -> byPartition.computeIfAbsent(e.partition(), k -> new ArrayList<>()).add(e));
    assertEquals(byPartition.keySet(), archived.keySet());
    for (int p : byPartition.keySet()) {
      List<ProducerRecord<byte[], byte[]>> want = byPartition.get(p);
      List<GenericRecord> got = archived.get(p);
      assertEquals(want.size(), got.size(), "partition " + p);
      for (int i = 0; i < want.size(); i++) {
        ProducerRecord<byte[], byte[]> w = want.get(i);
        GenericRecord g = got.get(i);
        String at = "partition " + p + " record " + i;
        assertEquals(TOPIC, g.get("topic").toString(), at);
        assertEquals(p, g.get("partition"), at);
        assertEquals((long) i, g.get("offset"), at);
        assertEquals(w.timestamp(), g.get("timestamp"), at);
        assertEquals("CreateTime", g.get("timestamp_type").toString(), at);
        assertArrayEquals(w.key(), ArchiveRecords.bytes(g.get("key")), at);
        assertArrayEquals(w.value(), ArchiveRecords.bytes(g.get("value")), at);
        List<?> headers = (List<?>) g.get("headers");
        assertEquals(w.headers().toArray().length, headers.size(), at);
        for (int h = 0; h < headers.size(); h++) {
          GenericRecord hr = (GenericRecord) headers.get(h);
          assertEquals(w.headers().toArray()[h].key(), hr.get("key").toString(), at);
          assertArrayEquals(
              w.headers().toArray()[h].value(), ArchiveRecords.bytes(hr.get("value")), at);
        }
      }
    }
  }

  private static long totalRecords(Manifest m) {
    return m.partitions().values().stream()
        .flatMap(List::stream)
        .mapToLong(Manifest.Range::records)
        .sum();
  }

  private static List<Path> files(Path archive) throws Exception {
    try (Stream<Path> s = Files.walk(archive)) {
      return s.filter(Files::isRegularFile).sorted().toList();
    }
  }
}
