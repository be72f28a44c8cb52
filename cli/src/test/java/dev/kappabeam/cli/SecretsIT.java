package dev.kappabeam.cli;

import static dev.kappabeam.cli.EndToEndSupport.kbOk;
import static dev.kappabeam.cli.EndToEndSupport.uniqueTopic;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kappabeam.devstack.LocalStack;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A canary password never leaves its file or variable: kb runs as a process of its own with a
 * database user whose password is the canary, and the canary must be absent from the argv of every
 * process it started ({@code /proc/<pid>/cmdline}, sampled while they run), from their output, from
 * the registry tables, and from the HTTP bodies and banner of {@code kb serve} (a 503 included).
 * Masking a password inside a JDBC URL is unit-tested by {@code JdbcUrlsTest}.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class SecretsIT {
  private static final String CANARY = "CANARY" + UUID.randomUUID().toString().replace("-", "");

  @TempDir static Path tempDir;

  private static LocalStack stack;

  @BeforeAll
  static void startStackWithACanaryUser() throws Exception {
    stack = LocalStack.start(LocalStack.Config.of(tempDir.resolve("stack")).withFreePorts());
    try (Connection c = stack.openConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE USER canary PASSWORD '" + CANARY + "' ADMIN");
    }
  }

  @AfterAll
  static void stopStack() {
    if (stack != null) {
      stack.close();
    }
  }

  @Test
  void runWithThePasswordInAFileLeavesItInNoArgvOutputOrRegistryRow() throws Exception {
    String topic = uniqueTopic("secrets");
    kbOk(stack, "topics", "create", topic, "--partitions", "2");
    kbOk(stack, "generate", "--topic", topic, "--count", "300", "--seed", "5");
    Path passwordFile = tempDir.resolve("db-password");
    Files.writeString(passwordFile, CANARY + "\n");
    Path log = tempDir.resolve("run.log");
    List<String> seen = new ArrayList<>();
    Process kb =
        start(
            List.of(
                "run",
                "--mode",
                "historical",
                "--topic",
                topic,
                "--version",
                "s1",
                "--views",
                "activity_per_minute",
                "--bootstrap-servers=" + stack.bootstrapServers(),
                "--jdbc-url=" + stack.jdbcUrl(),
                "--jdbc-user=canary",
                "--jdbc-password-file=" + passwordFile),
            Map.of(),
            log);
    int rc = waitSampling(kb, Duration.ofMinutes(3), seen);
    String output = Files.readString(log);
    assertEquals(0, rc, "kb run with the canary user must succeed:\n" + output);
    assertNoCanary("argv of the processes kb started", String.join("\n", seen));
    assertTrue(String.join("\n", seen).contains("--jdbc-password-file"), "argv was sampled");
    assertNoCanary("kb run output", output);
    assertNoCanary("registry tables", registryText());
  }

  @Test
  void serveKeepsThePasswordOutOfItsBannerAnd503Bodies() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path log = tempDir.resolve("serve.log");
    // A store of its own, stopped under kb serve so that reads fail and the errors quote the URL,
    // while the canary user's password is in kb serve's environment.
    LocalStack own =
        LocalStack.start(LocalStack.Config.of(tempDir.resolve("serve-stack")).withFreePorts());
    try (Connection c = own.openConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE USER canary PASSWORD '" + CANARY + "' ADMIN");
    }
    Process kb =
        start(
            List.of("serve", "--port", Integer.toString(port)),
            Map.of(
                "KB_JDBC_URL",
                own.jdbcUrl(),
                "KB_JDBC_PASSWORD",
                CANARY,
                "KB_JDBC_USER",
                "canary",
                "KB_BOOTSTRAP_SERVERS",
                stack.bootstrapServers(),
                "KB_DATA_DIR",
                tempDir.resolve("no-stack").toString()),
            log);
    List<String> seen = new ArrayList<>();
    List<String> bodies = new ArrayList<>();
    try {
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      HttpResponse<String> views = null;
      while (views == null) {
        sample(kb, seen);
        try {
          views =
              http.send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/views"))
                      .timeout(Duration.ofSeconds(30))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
        } catch (IOException notYet) {
          if (System.nanoTime() > deadline || !kb.isAlive()) {
            fail("kb serve did not answer:\n" + Files.readString(log));
          }
          Thread.sleep(200);
        }
      }
      assertEquals(200, views.statusCode(), "the canary user reads the store: " + views.body());
      own.close();
      for (String path : List.of("/api/versions", "/api/views/activity_per_minute?limit=5")) {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(30))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        bodies.add(r.statusCode() + " " + r.body());
      }
      HttpResponse<String> down =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/views"))
                  .timeout(Duration.ofSeconds(60))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      bodies.add(down.statusCode() + " " + down.body());
      assertEquals(503, down.statusCode(), down.body());
      sample(kb, seen);
    } finally {
      kb.destroy();
      kb.waitFor(30, TimeUnit.SECONDS);
      own.close();
    }
    String output = Files.readString(log);
    assertTrue(output.contains(own.jdbcUrl()), "the banner names the store:\n" + output);
    assertTrue(
        String.join("\n", bodies).contains(own.jdbcUrl()),
        "the 503 says which store failed: " + bodies);
    assertNoCanary("HTTP bodies", String.join("\n", bodies));
    assertNoCanary("kb serve output", output);
    assertNoCanary("argv of kb serve", String.join("\n", seen));
  }

  @Test
  void passwordFlagIsRefusedWithoutEchoingIt() {
    InProcessKb.Result r =
        InProcessKb.run("views", "list", "--jdbc-url", stack.jdbcUrl(), "--jdbc-password", CANARY);
    assertEquals(ExitCodes.USAGE, r.exitCode(), r.describe());
    assertTrue(r.err().contains("KB_JDBC_PASSWORD"), r.describe());
    assertTrue(r.err().contains("--jdbc-password-file"), r.describe());
    assertNoCanary("the refusal", r.out() + r.err());
  }

  private static Process start(List<String> args, Map<String, String> env, Path log)
      throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Kb.class.getName());
    command.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.redirectOutput(log.toFile());
    pb.environment().remove("KB_JDBC_PASSWORD");
    pb.environment().putAll(env);
    return pb.start();
  }

  /** Waits for {@code p}, recording the argv of it and its descendants every 100 ms. */
  private static int waitSampling(Process p, Duration timeout, List<String> seen) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!p.waitFor(100, TimeUnit.MILLISECONDS)) {
      sample(p, seen);
      if (System.nanoTime() > deadline) {
        p.destroyForcibly();
        fail("kb did not finish in " + timeout);
      }
    }
    return p.exitValue();
  }

  private static void sample(Process p, List<String> seen) {
    List<ProcessHandle> all = new ArrayList<>();
    all.add(p.toHandle());
    p.descendants().forEach(all::add);
    for (ProcessHandle h : all) {
      try {
        byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(h.pid()), "cmdline"));
        seen.add(new String(raw, StandardCharsets.UTF_8).replace('\0', ' '));
      } catch (IOException gone) {
        // The process ended between listing and reading.
      }
    }
  }

  /** Every row of every kb_* table of the serving store, as text. */
  private static String registryText() throws Exception {
    StringBuilder out = new StringBuilder();
    try (Connection c = stack.openConnection()) {
      List<String> tables = new ArrayList<>();
      try (ResultSet rs = c.getMetaData().getTables(null, null, "kb_%", new String[] {"TABLE"})) {
        while (rs.next()) {
          tables.add(rs.getString("TABLE_SCHEM") + "." + rs.getString("TABLE_NAME"));
        }
      }
      assertFalse(tables.isEmpty(), "the registry tables exist");
      for (String t : tables) {
        try (Statement s = c.createStatement();
            ResultSet rs = s.executeQuery("SELECT * FROM " + t)) {
          int n = rs.getMetaData().getColumnCount();
          while (rs.next()) {
            for (int i = 1; i <= n; i++) {
              out.append(rs.getString(i)).append('|');
            }
            out.append('\n');
          }
        }
      }
    }
    return out.toString();
  }

  private static void assertNoCanary(String where, String text) {
    assertFalse(text.contains(CANARY), "the canary password appears in " + where + ":\n" + text);
  }
}
