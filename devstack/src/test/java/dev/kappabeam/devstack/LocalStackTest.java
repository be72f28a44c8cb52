package dev.kappabeam.devstack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Configuration, argument and state-file handling, without starting anything. */
class LocalStackTest {
  @TempDir Path dir;

  @Test
  void configDefaultsAreTheDocumentedPorts() {
    LocalStack.Config config = LocalStack.Config.of(dir);
    assertEquals(19092, config.kafkaPort());
    assertEquals(19093, config.controllerPort());
    assertEquals(19094, config.h2Port());
    assertEquals(512, config.brokerHeapMb());
    assertEquals(Optional.empty(), config.brokerLibDir());
    LocalStack.Config free = config.withFreePorts();
    assertEquals(List.of(0, 0, 0), List.of(free.kafkaPort(), free.controllerPort(), free.h2Port()));
  }

  @Test
  void configRejectsBadValuesWithTheAllowedRange() {
    LocalStack.Config config = LocalStack.Config.of(dir);
    IllegalArgumentException port =
        assertThrows(IllegalArgumentException.class, () -> config.withKafkaPort(70000));
    assertTrue(port.getMessage().contains("between 0"), port.getMessage());
    assertThrows(IllegalArgumentException.class, () -> config.withBrokerHeapMb(64));
    assertThrows(IllegalArgumentException.class, () -> config.withStartTimeout(Duration.ZERO));
  }

  @Test
  void commandLineRoundTripsTheConfig() {
    LocalStack.Config config =
        LocalStack.Config.of(dir)
            .withKafkaPort(1)
            .withControllerPort(2)
            .withH2Port(0)
            .withBrokerLibDir(dir.resolve("lib"))
            .withBrokerHeapMb(300)
            .withStartTimeout(Duration.ofSeconds(90));
    List<String> args = LocalStackMain.toArgs(config);
    assertEquals("run", args.get(0));
    LocalStack.Config parsed = LocalStackMain.parse(args.subList(1, args.size()));
    assertEquals(config.toString(), parsed.toString());
  }

  @Test
  void commandLineAcceptsSeparateValuesAndRejectsUnknownOptions() {
    LocalStack.Config parsed = LocalStackMain.parse(List.of("--kafka-port", "29092"));
    assertEquals(29092, parsed.kafkaPort());
    assertEquals(Path.of(".kb"), parsed.dataDir());
    assertThrows(IllegalArgumentException.class, () -> LocalStackMain.parse(List.of("--nope=1")));
    assertThrows(
        IllegalArgumentException.class, () -> LocalStackMain.parse(List.of("--h2-port=x")));
  }

  @Test
  void brokerLibPropertyPointingAtAnEmptyDirSaysHowToBuildIt() {
    String previous = System.getProperty(LocalStack.BROKER_LIB_PROPERTY);
    System.setProperty(LocalStack.BROKER_LIB_PROPERTY, dir.toString());
    try {
      LocalStackException e = assertThrows(LocalStackException.class, LocalStack::findBrokerLibDir);
      assertTrue(e.getMessage().contains("mvn -pl devstack/broker package"), e.getMessage());
    } finally {
      if (previous == null) {
        System.clearProperty(LocalStack.BROKER_LIB_PROPERTY);
      } else {
        System.setProperty(LocalStack.BROKER_LIB_PROPERTY, previous);
      }
    }
  }

  @Test
  void stateFileRoundTripsAndHidesThePasswordInToString() {
    StackState state = state(ProcessHandle.current().pid());
    state.write();
    assertEquals(Optional.of(state), StackState.read(dir));
    assertFalse(state.toString().contains("secret"));
  }

  @Test
  void stateFileNamesAnOwnerOnlyPasswordFileInsteadOfHoldingThePassword() throws Exception {
    StackState state = state(ProcessHandle.current().pid());
    state.write();
    Path stateFile = StackState.file(dir);
    Path passwordFile = StackState.passwordFile(dir);
    assertFalse(
        Files.readString(stateFile).contains(state.jdbcPassword()),
        "the state file holds no password");
    assertEquals(state.jdbcPassword(), Files.readString(passwordFile));
    for (Path f : List.of(stateFile, passwordFile)) {
      assertEquals(
          "rw-------",
          java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(f)),
          f.toString());
    }
  }

  @Test
  void staleStateFileIsRemovedByStatusAndDown() throws Exception {
    Process finished = new ProcessBuilder(KafkaBroker.javaExecutable(), "-version").start();
    finished.waitFor();
    state(finished.pid()).write();

    LocalStackControl.StatusResult status = LocalStackControl.status(dir);
    assertFalse(status.running());
    assertTrue(status.staleStateRemoved());
    assertFalse(Files.exists(StackState.file(dir)));

    state(finished.pid()).write();
    assertEquals(
        LocalStackControl.DownOutcome.STALE_STATE_REMOVED, LocalStackControl.down(dir).outcome());
    assertEquals(LocalStackControl.DownOutcome.NOT_RUNNING, LocalStackControl.down(dir).outcome());
  }

  @Test
  void unreadableStateFileSaysWhatToDo() throws Exception {
    Files.writeString(StackState.file(dir), "pid=not-a-number\n");
    LocalStackException e = assertThrows(LocalStackException.class, () -> StackState.read(dir));
    assertTrue(e.getMessage().contains("delete the file"), e.getMessage());
  }

  @Test
  void jdbcUrlUsesPostgreSqlModeOnLoopback() {
    assertEquals(
        "jdbc:h2:tcp://127.0.0.1:19094/kb;MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;"
            + "DEFAULT_NULL_ORDERING=HIGH",
        LocalStack.jdbcUrl(19094));
  }

  private StackState state(long pid) {
    return new StackState(
        pid,
        -1,
        dir.toAbsolutePath(),
        "127.0.0.1:1",
        "jdbc:h2:tcp://127.0.0.1:3/kb",
        "kb",
        "secret",
        1,
        2,
        3,
        "cluster",
        Instant.parse("2026-11-25T10:00:00Z"),
        "2.4.240 (2026-01-01)",
        -1);
  }
}
