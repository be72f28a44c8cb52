package dev.kappabeam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kappabeam.devstack.LocalStack;
import dev.kappabeam.generator.Oracle;
import dev.kappabeam.pipelines.sinks.KafkaSinks;
import dev.kappabeam.serving.ReadProgress;
import dev.kappabeam.serving.StoreConfig;
import dev.kappabeam.serving.VersionCounters;
import dev.kappabeam.serving.ViewDiff;
import dev.kappabeam.transforms.CounterNames;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.Views;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.beam.sdk.values.Row;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** Shared pieces of the CLI end-to-end tests: kb arguments, names and view/counter checks. */
final class EndToEndSupport {
  private static final int MAX_DIFF_CHARS = 4000;

  private EndToEndSupport() {}

  /** A topic name no other test uses. */
  static String uniqueTopic(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** The kb arguments followed by the flags that point kb at the stack. */
  static List<String> kbArgs(LocalStack stack, String... args) {
    List<String> out = new ArrayList<>(Arrays.asList(args));
    out.add("--bootstrap-servers=" + stack.bootstrapServers());
    out.add("--jdbc-url=" + stack.jdbcUrl());
    out.add("--jdbc-user=" + stack.jdbcUser());
    return out;
  }

  /**
   * Starts kb in a JVM of its own (this test's classpath), its output in {@code log}: a controller
   * a test can kill as a crash would.
   */
  static Process startKbProcess(List<String> args, java.io.File log) throws java.io.IOException {
    return startKbProcess(List.of(), args, log);
  }

  /** The same, with these JVM options (e.g. {@code -Dname=value}) before the main class. */
  static Process startKbProcess(List<String> jvmOptions, List<String> args, java.io.File log)
      throws java.io.IOException {
    return startKbProcess(System.getProperty("java.class.path"), jvmOptions, args, log);
  }

  /** The same on another class path (kb's with a plug-in jar, say). */
  static Process startKbProcess(
      String classPath, List<String> jvmOptions, List<String> args, java.io.File log)
      throws java.io.IOException {
    List<String> command = new ArrayList<>();
    command.add(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(classPath);
    command.add(Kb.class.getName());
    command.addAll(args);
    return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log).start();
  }

  /** Runs kb against the stack and fails unless it exits 0. */
  static InProcessKb.Result kbOk(LocalStack stack, String... args) {
    InProcessKb.Result r = InProcessKb.run(kbArgs(stack, args));
    if (r.exitCode() != 0) {
      fail("kb failed\n" + r.describe());
    }
    return r;
  }

  /** Runs kb against the stack, whatever its exit code. */
  static InProcessKb.Result kb(LocalStack stack, String... args) {
    return InProcessKb.run(kbArgs(stack, args));
  }

  /**
   * Rows of a view version must equal the expected rows, row for row and in the same (key) order;
   * on a difference the message lists the differing rows.
   */
  static void assertRows(
      ViewDefinition view,
      List<Row> expected,
      String expectedName,
      List<Row> actual,
      String actualName) {
    ViewDiff diff = ViewDiff.compare(view, expected, actual);
    if (!diff.isEmpty()) {
      String text = diff.format(expectedName, actualName);
      fail(
          view.name()
              + ": "
              + actualName
              + " differs from "
              + expectedName
              + " in "
              + diff.size()
              + " row(s) ("
              + expected.size()
              + " expected, "
              + actual.size()
              + " actual):\n"
              + (text.length() > MAX_DIFF_CHARS
                  ? text.substring(0, MAX_DIFF_CHARS) + "..."
                  : text));
    }
    if (!expected.equals(actual)) {
      fail(
          view.name()
              + ": "
              + actualName
              + " has the rows of "
              + expectedName
              + " but not in key order");
    }
  }

  /** The counters an oracle predicts for a run (late events given separately). */
  static Map<String, Long> expectedCounters(Oracle.Result all, long late, long accepted) {
    Map<String, Long> c = new LinkedHashMap<>();
    c.put(CounterNames.READ, all.read());
    c.put(CounterNames.PARSED, all.parsed());
    c.put(CounterNames.DEAD_LETTERED, all.deadLettered());
    c.put(CounterNames.DUPLICATES_REMOVED, all.duplicates());
    c.put(CounterNames.LATE, late);
    c.put(CounterNames.ACCEPTED, accepted);
    c.put(CounterNames.DUPLICATES_CONFLICTING, 0L);
    return c;
  }

  /** The counters of a run must be exactly these (the ones named; others are ignored). */
  /**
   * {@code kb run} published its final counters for every view of {@code version} (what kb serve
   * reports), equal to {@code expected}.
   */
  static void assertPublishedCounters(
      LocalStack stack, String version, Map<String, Long> expected) {
    try (VersionCounters published =
        new VersionCounters(
            StoreConfig.of(stack.jdbcUrl(), stack.jdbcUser(), stack.jdbcPassword()))) {
      for (ViewDefinition view : Views.all()) {
        VersionCounters.Snapshot s = published.read(view.name(), version);
        Map<String, Long> got = new LinkedHashMap<>();
        expected.keySet().forEach(k -> got.put(k, s.get(k)));
        assertEquals(expected, got, view.name() + " " + version + ": published counters");
      }
    }
  }

  /**
   * Records the run of {@code version} over {@code topic} (its default consumer group) has reported
   * reading, from {@code kb_read_progress}: every runner reports there while it runs, where Beam's
   * counters reach kb only when a Flink job ends. 0 before the first report.
   */
  static long recordsRead(StoreConfig config, String topic, String version) {
    try (ReadProgress progress = new ReadProgress(config)) {
      return progress.read("kappa-beam." + topic + "." + version, topic, null).values().stream()
          .mapToLong(ReadProgress.Position::records)
          .sum();
    } catch (RuntimeException notYet) {
      return 0;
    }
  }

  /**
   * Whether an open-ended run's published counters have settled on {@code records}: every record
   * read and every one accounted for (read = accepted + dead-lettered + duplicates removed + late).
   * The job publishes a snapshot per tick, taken while later steps may still hold records that the
   * read already counted; a test waits for this before it compares the counters with the oracle.
   */
  static boolean settledOn(VersionCounters.Snapshot c, long records) {
    return c.get(CounterNames.READ) == records
        && c.get(CounterNames.ACCEPTED)
                + c.get(CounterNames.DEAD_LETTERED)
                + c.get(CounterNames.DUPLICATES_REMOVED)
                + c.get(CounterNames.LATE)
            == records;
  }

  static void assertCounters(Map<String, Long> expected, InProcessKb.Result run, String what) {
    Map<String, Long> actual = run.counters();
    Map<String, Long> selected = new LinkedHashMap<>();
    for (String name : expected.keySet()) {
      selected.put(name, actual.get(name));
    }
    assertEquals(expected, selected, what + ": counters line of kb run\n" + run.out());
    assertFalse(expected.isEmpty());
  }

  /** Distinct source records (partition/offset headers) among dead letters. */
  static long distinctSources(List<ConsumerRecord<byte[], byte[]>> deadLetters) {
    Set<String> sources = new HashSet<>();
    for (ConsumerRecord<byte[], byte[]> d : deadLetters) {
      sources.add(
          KafkaTestClient.header(d, KafkaSinks.SOURCE_PARTITION)
              + "/"
              + KafkaTestClient.header(d, KafkaSinks.SOURCE_OFFSET));
    }
    return sources.size();
  }
}
