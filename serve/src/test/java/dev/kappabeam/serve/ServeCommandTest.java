package dev.kappabeam.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** {@code kb serve} wired as the cli wires it: kb's connection options mixed in. */
class ServeCommandTest {
  /** Stands in for the cli's {@code Connections}: the same flags, resolved by getters. */
  static final class Connections {
    @Option(names = "--bootstrap-servers")
    String bootstrapServers;

    @Option(names = "--jdbc-url")
    String jdbcUrl;

    @Option(names = "--jdbc-user")
    String jdbcUser = "sa";

    @Option(names = "--jdbc-password")
    String jdbcPassword = "";
  }

  private static CommandLine command(Connections c) {
    return ServeCommand.command(
        c,
        new ServeCommand.Settings(
            () -> c.bootstrapServers, () -> c.jdbcUrl, () -> c.jdbcUser, () -> c.jdbcPassword));
  }

  @Test
  void helpListsServeAndConnectionOptions() {
    String usage = command(new Connections()).getUsageMessage();
    for (String option :
        new String[] {
          "--port",
          "--host",
          "--token-file",
          "--allowed-host",
          "--read-timeout",
          "--query-timeout",
          "--jdbc-url",
          "--bootstrap-servers"
        }) {
      assertTrue(usage.contains(option), usage);
    }
    assertEquals("serve", command(new Connections()).getCommandName());
  }

  @Test
  void aTakenPortIsAnEnvironmentErrorWithOneLine() throws Exception {
    Connections c = new Connections();
    CommandLine cmd = command(c);
    StringWriter err = new StringWriter();
    cmd.setErr(new PrintWriter(err));
    String url =
        "jdbc:h2:mem:kbserve_"
            + UUID.randomUUID().toString().replace("-", "")
            + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DB_CLOSE_DELAY=-1";
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      int code = cmd.execute("--port", String.valueOf(taken.getLocalPort()), "--jdbc-url", url);
      assertEquals(ServeCommand.ENVIRONMENT, code);
    }
    assertEquals(url, c.jdbcUrl, "the mixed-in option was parsed into kb's options object");
    assertTrue(err.toString().startsWith("kb: error: cannot listen on 127.0.0.1:"), err.toString());
    assertEquals(1, err.toString().strip().lines().count(), err.toString());
  }

  @Test
  void aNonLoopbackAddressWithoutATokenFileIsAUsageErrorSayingWhatToDo() {
    CommandLine cmd = command(new Connections());
    StringWriter err = new StringWriter();
    cmd.setErr(new PrintWriter(err));
    int code =
        cmd.execute(
            "--host", "0.0.0.0", "--allowed-host", "kb.example.com", "--jdbc-url", "jdbc:h2:mem:x");
    assertEquals(2, code);
    assertTrue(err.toString().contains("is not a loopback address"), err.toString());
    assertTrue(err.toString().contains("--token-file"), err.toString());
  }

  @Test
  void badTimeoutsHostsAndTokenFilesAreUsageErrors() {
    for (String[] args :
        new String[][] {
          {"--read-timeout", "10"},
          {"--read-timeout", "PT0S"},
          {"--query-timeout", "-PT1S"},
          {"--allowed-host", "http://kb/"},
          {"--token-file", "/nonexistent/kb-token"}
        }) {
      CommandLine cmd = command(new Connections());
      cmd.setErr(new PrintWriter(new StringWriter()));
      String[] all = java.util.Arrays.copyOf(args, args.length + 2);
      all[args.length] = "--jdbc-url";
      all[args.length + 1] = "jdbc:h2:mem:x";
      assertEquals(2, cmd.execute(all), String.join(" ", args));
    }
  }

  @Test
  void aBadPortIsAUsageError() {
    CommandLine cmd = command(new Connections());
    cmd.setErr(new PrintWriter(new StringWriter()));
    assertEquals(2, cmd.execute("--port", "70000", "--jdbc-url", "jdbc:h2:mem:x"));
  }
}
