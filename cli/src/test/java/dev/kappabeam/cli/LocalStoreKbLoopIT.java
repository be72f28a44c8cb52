package dev.kappabeam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kappabeam.devstack.LocalStack;
import dev.kappabeam.devstack.StackState;
import dev.kappabeam.generator.GeneratedRecord;
import dev.kappabeam.generator.WorkloadGenerator;
import dev.kappabeam.serving.RegisteredVersion;
import dev.kappabeam.serving.RegisteredVersion.Status;
import dev.kappabeam.serving.StoreConfig;
import dev.kappabeam.serving.ViewRegistry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local serving store keeps everything kb commits, as a user drives it: a background stack
 * ({@code kb local up}), a loop of {@code kb run}, {@code cutover}, {@code drop} and {@code views
 * list}, each step's registry checked, then {@code kb local down}/{@code up} and a {@code kill -9}
 * of the stack, after which every version, status, cutover and table is still there.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class LocalStoreKbLoopIT {
  private static final String VIEW = "activity_per_minute";
  private static final String TOPIC = "loop-events";
  private static final int ROUNDS = 5;

  @TempDir Path dataDir;

  @AfterEach
  void stopStack() {
    kb("local", "down");
  }

  @Test
  void runCutoverDropLoopSurvivesDownUpAndKill() throws Exception {
    kbOk("local", "up", "--kafka-port=0", "--controller-port=0", "--h2-port=0");
    StackState state = StackState.read(dataDir).orElseThrow();
    String status = kbOk("local", "status").out();
    assertTrue(status.contains("h2:      " + LocalStack.H2_VERSION), status);
    assertTrue(status.contains(LocalStack.databaseFile(dataDir).toString()), status);

    kbOk("topics", "create", TOPIC, "--partitions", "2");
    List<ProducerRecord<byte[], byte[]>> sends = new ArrayList<>();
    for (GeneratedRecord r : WorkloadGenerator.seeded(16L).withCount(300).generate()) {
      sends.add(new ProducerRecord<>(TOPIC, r.key(), r.value()));
    }
    try (KafkaTestClient kafka = new KafkaTestClient(state.bootstrapServers())) {
      kafka.produce(sends);
    }

    // What the registry must say, built up step by step: version -> status.
    Map<String, Status> expected = new TreeMap<>();
    String rows = null;
    for (int round = 1; round <= ROUNDS; round++) {
      String version = "loop" + round;
      kbOk("run", "--mode", "historical", "--topic", TOPIC, "--version", version, "--views", VIEW);
      expected.put(version, Status.BUILDING);
      assertRegistry(expected, "after kb run " + version);
      // A finished historical run is complete, and nothing of the log is behind it, although a
      // historical run commits no offsets.
      String versions = kbOk("status", "--view", VIEW).out();
      assertTrue(
          versions
              .lines()
              .anyMatch(l -> l.matches("\\s+" + version + "\\s+complete\\s+done\\s+0\\s.*")),
          versions);
      String listed = listedRows(version);
      if (rows == null) {
        rows = listed;
      }
      assertEquals(rows, listed, "every version of the same log has the same rows");

      kbOk("cutover", "--view", VIEW, "--version", version);
      expected.replaceAll((v, s) -> s == Status.LIVE ? Status.RETIRED : s);
      expected.put(version, Status.LIVE);
      assertRegistry(expected, "after kb cutover " + version);

      if (round >= 2) {
        String old = "loop" + (round - 1);
        kbOk("drop", "--view", VIEW, "--version", old);
        expected.put(old, Status.DROPPED);
        assertRegistry(expected, "after kb drop " + old);
      }
    }

    assertEquals("stopped", kbOk("local", "down").out().split(" ")[0]);
    kbOk("local", "up", "--kafka-port=0", "--controller-port=0", "--h2-port=0");
    assertRegistry(expected, "after kb local down and up");

    long pid = StackState.read(dataDir).orElseThrow().pid();
    ProcessHandle stack = ProcessHandle.of(pid).orElseThrow();
    stack.destroyForcibly();
    stack.onExit().get(30, TimeUnit.SECONDS);
    kbOk("local", "up", "--kafka-port=0", "--controller-port=0", "--h2-port=0");
    assertRegistry(expected, "after kill -9 of the stack and kb local up");
    assertEquals(rows, listedRows("loop" + ROUNDS));
  }

  /** The registry lists exactly the expected versions and statuses; tables exist unless dropped. */
  private void assertRegistry(Map<String, Status> expected, String when) {
    StackState state = StackState.read(dataDir).orElseThrow();
    try (ViewRegistry registry =
        new ViewRegistry(StoreConfig.of(state.jdbcUrl(), state.jdbcUser(), state.jdbcPassword()))) {
      Map<String, Status> actual = new TreeMap<>();
      for (RegisteredVersion v : registry.versions(VIEW)) {
        actual.put(v.version(), v.status());
      }
      assertEquals(expected, actual, when);
      String live =
          expected.entrySet().stream()
              .filter(e -> e.getValue() == Status.LIVE)
              .map(Map.Entry::getKey)
              .findFirst()
              .orElse(null);
      assertEquals(java.util.Optional.ofNullable(live), registry.live(VIEW), when + ": live");
    }
    String list = kbOk("views", "list").out();
    for (Map.Entry<String, Status> e : expected.entrySet()) {
      boolean listed = list.contains(VIEW + "\t" + e.getKey() + "\t");
      assertEquals(
          e.getValue() != Status.DROPPED, listed, when + ": views list of " + e.getKey() + list);
    }
  }

  private String listedRows(String version) {
    for (String line : kbOk("views", "list").out().split("\n")) {
      String[] cells = line.split("\t");
      if (cells.length == 3 && cells[0].equals(VIEW) && cells[1].equals(version)) {
        return cells[2];
      }
    }
    return fail("kb views list does not show " + version);
  }

  private InProcessKb.Result kbOk(String... args) {
    InProcessKb.Result r = kb(args);
    if (r.exitCode() != 0) {
      fail("kb failed\n" + r.describe());
    }
    return r;
  }

  private InProcessKb.Result kb(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--data-dir=" + dataDir);
    return InProcessKb.run(all);
  }
}
