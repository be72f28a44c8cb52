package dev.kappabeam.devstack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.api.io.TempDir;

/** The background stack through up, status and down, as a CLI drives it. */
class LocalStackControlIT {
  @TempDir Path dataDir;

  @AfterEach
  void stopWhateverIsLeft() {
    // Runs after a failed assertion too, so no background JVM or broker outlives the test.
    LocalStackControl.down(dataDir);
  }

  @Test
  void upStatusDownRunsTheStackInTheBackground(TestReporter reporter) throws Exception {
    LocalStack.Config config = LocalStack.Config.of(dataDir).withFreePorts();
    Path log = dataDir.resolve("stack.log");

    LocalStackControl.UpResult up = LocalStackControl.up(config, log);
    reporter.publishEntry("upMillis", Long.toString(up.elapsed().toMillis()));
    assertFalse(up.alreadyRunning());
    StackState state = up.state();
    assertTrue(ProcessHandle.of(state.pid()).map(ProcessHandle::isAlive).orElse(false));
    assertTrue(ProcessHandle.of(state.brokerPid()).map(ProcessHandle::isAlive).orElse(false));
    assertTrue(Files.readString(log).contains("Local stack ready"), Files.readString(log));

    LocalStackControl.StatusResult status = LocalStackControl.status(dataDir);
    assertTrue(status.running());
    assertTrue(status.kafkaAnswers());
    assertTrue(status.h2Answers());
    assertEquals(Optional.of(state), status.state());
    assertListensOnLoopbackOnly(state.h2Port());
    assertListensOnLoopbackOnly(state.kafkaPort());

    // The endpoints serve other processes: this test JVM is a client of the background stack.
    assertTrue(KafkaTopics.ensure(state.bootstrapServers(), "from-a-client", 2));
    try (Connection connection =
            DriverManager.getConnection(state.jdbcUrl(), state.jdbcUser(), state.jdbcPassword());
        Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery("SELECT 1")) {
      assertTrue(rs.next());
    }

    LocalStackControl.UpResult again = LocalStackControl.up(config, log);
    assertTrue(again.alreadyRunning());
    assertEquals(state.pid(), again.state().pid());

    LocalStackControl.DownResult down = LocalStackControl.down(dataDir);
    reporter.publishEntry("downMillis", Long.toString(down.elapsed().toMillis()));
    assertEquals(LocalStackControl.DownOutcome.STOPPED, down.outcome());
    assertEquals(state.pid(), down.pid());
    assertFalse(ProcessHandle.of(state.pid()).map(ProcessHandle::isAlive).orElse(false));
    assertFalse(ProcessHandle.of(state.brokerPid()).map(ProcessHandle::isAlive).orElse(false));
    assertFalse(Files.exists(StackState.file(dataDir)));
    LocalStackIT.assertPortsFreed(
        List.of(state.kafkaPort(), state.controllerPort(), state.h2Port()));

    LocalStackControl.StatusResult after = LocalStackControl.status(dataDir);
    assertFalse(after.running());
    assertEquals(Optional.empty(), after.state());
    assertEquals(
        LocalStackControl.DownOutcome.NOT_RUNNING, LocalStackControl.down(dataDir).outcome());
    assertTrue(Files.readString(log).contains("Local stack stopped"), Files.readString(log));
    assertTrue(
        Files.readString(log).contains("H2 " + LocalStack.H2_VERSION), Files.readString(log));
  }

  /**
   * Every listening socket on {@code port} is bound to a loopback address, read from the kernel's
   * socket tables (so no packet needs to leave loopback to prove it).
   */
  static void assertListensOnLoopbackOnly(int port) throws Exception {
    String hexPort = String.format(":%04X", port);
    List<String> listening = new java.util.ArrayList<>();
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      Path file = Path.of(table);
      if (!Files.isReadable(file)) {
        continue;
      }
      for (String line : Files.readAllLines(file)) {
        String[] fields = line.trim().split("\\s+");
        // fields: sl local_address rem_address st ...; st 0A is LISTEN.
        if (fields.length > 3 && fields[1].endsWith(hexPort) && fields[3].equals("0A")) {
          listening.add(fields[1].substring(0, fields[1].indexOf(':')));
        }
      }
    }
    org.junit.jupiter.api.Assumptions.assumeTrue(
        Files.isReadable(Path.of("/proc/net/tcp")), "no /proc/net/tcp on this OS");
    assertFalse(listening.isEmpty(), "nothing listens on port " + port);
    for (String address : listening) {
      assertTrue(
          address.equals("0100007F") // 127.0.0.1
              || address.equals("0000000000000000FFFF00000100007F") // ::ffff:127.0.0.1
              || address.equals("00000000000000000000000001000000"), // ::1
          "port " + port + " listens on " + address + ", not on loopback only");
    }
  }

  @Test
  void statusAfterTheStackWasKilledRemovesTheStateAndStopsTheOrphanedBroker() {
    LocalStack.Config config = LocalStack.Config.of(dataDir).withFreePorts();
    StackState state = LocalStackControl.up(config, dataDir.resolve("stack.log")).state();
    ProcessHandle main = ProcessHandle.of(state.pid()).orElseThrow();
    main.destroyForcibly(); // kill -9: no shutdown hook runs, the broker survives its parent
    main.onExit().join();
    assertTrue(ProcessHandle.of(state.brokerPid()).map(ProcessHandle::isAlive).orElse(false));

    LocalStackControl.StatusResult status = LocalStackControl.status(dataDir);

    assertFalse(status.running());
    assertTrue(status.staleStateRemoved());
    assertFalse(Files.exists(StackState.file(dataDir)));
    assertFalse(ProcessHandle.of(state.brokerPid()).map(ProcessHandle::isAlive).orElse(false));
    LocalStackIT.assertPortsFreed(List.of(state.kafkaPort(), state.controllerPort()));
  }

  @Test
  void upFailsFastWithTheLogWhenThePortIsTaken() throws Exception {
    try (var blocker = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      LocalStack.Config config =
          LocalStack.Config.of(dataDir).withFreePorts().withKafkaPort(blocker.getLocalPort());
      Path log = dataDir.resolve("stack.log");
      LocalStackException e =
          assertThrows(
              LocalStackException.class,
              () -> LocalStackControl.up(config, log, Duration.ofSeconds(60)));
      assertTrue(e.getMessage().contains("exited with code 1"), e.getMessage());
      assertTrue(
          e.getMessage().contains("port " + blocker.getLocalPort() + " is in use"), e.getMessage());
      assertFalse(LocalStackControl.status(dataDir).running());
    }
  }
}
