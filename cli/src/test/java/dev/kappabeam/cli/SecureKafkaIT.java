package dev.kappabeam.cli;

import static dev.kappabeam.cli.EndToEndSupport.assertCounters;
import static dev.kappabeam.cli.EndToEndSupport.assertRows;
import static dev.kappabeam.cli.EndToEndSupport.expectedCounters;
import static dev.kappabeam.cli.EndToEndSupport.uniqueTopic;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kappabeam.devstack.LocalStack;
import dev.kappabeam.generator.GeneratedRecord;
import dev.kappabeam.generator.Oracle;
import dev.kappabeam.generator.WorkloadGenerator;
import dev.kappabeam.pipelines.KappaBeamPipeline;
import dev.kappabeam.pipelines.RunPlan;
import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.serving.LambdaRegistry;
import dev.kappabeam.serving.StoreConfig;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.Views;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.util.construction.PipelineOptionsTranslation;
import org.apache.beam.sdk.util.construction.PipelineTranslation;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * kb against the local stack's SASL_SSL listener (SCRAM-SHA-512) with {@code --kafka-config}: every
 * Kafka client of kb and of its jobs authenticates, on DirectRunner and Flink (historical and
 * drained streaming) and Spark (historical), and the views equal the oracle; wrong or missing
 * credentials fail fast with exit 3 and one line; the SCRAM password is in no argv, output or
 * pipeline option (only the file's path is).
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class SecureKafkaIT {
  private static final long SEED = 1212;
  private static final int COUNT = 1500;

  private static LocalStack stack;
  private static String secure;
  private static Path clientFile;
  private static String scramPassword;
  private static ViewStore store;

  @BeforeAll
  static void startSecuredStack() throws IOException {
    Path dataDir = Path.of("target", "it-stacks", "SecureKafkaIT-" + System.currentTimeMillis());
    stack = LocalStack.start(LocalStack.Config.of(dataDir).withFreePorts().withSecureKafkaPort(0));
    secure = stack.secureBootstrapServers().orElseThrow();
    clientFile = stack.clientSecureFile().orElseThrow();
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(clientFile)) {
      p.load(r);
    }
    scramPassword = p.getProperty("sasl.jaas.config").replaceAll(".*password=\"([^\"]*)\".*", "$1");
    assertTrue(scramPassword.length() >= 16, "a random SCRAM password");
    store = new ViewStore(StoreConfig.of(stack.jdbcUrl(), stack.jdbcUser(), stack.jdbcPassword()));
  }

  @AfterAll
  static void stopStack() {
    if (store != null) {
      store.close();
    }
    if (stack != null) {
      stack.close();
    }
  }

  @Test
  void historicalAndDrainedRunsOverSaslSslEqualTheOracleOnDirectRunner() {
    runBothModesAndCompare("secdirect", "d", List.of());
  }

  @Tag("matrix")
  @Test
  void historicalAndDrainedRunsOverSaslSslEqualTheOracleOnFlink() {
    runBothModesAndCompare(
        "secflink", "f", List.of("--runner=FlinkRunner", "--flinkMaster=[local]"));
  }

  /**
   * The Kappa and Lambda flows over SASL_SSL on DirectRunner: {@code kb reprocess} (the
   * controller's offset and lag reads, the job, the cutover), {@code kb status} (its lag reader),
   * {@code kb batch} (the cutoff's end offsets) and {@code kb speed} (the de-duplication primer,
   * the job): the live view and the merged Lambda view equal the oracle. Tagged {@code matrix} (CI
   * runs it with the runner matrix): the default suite keeps the plain runs over SASL_SSL.
   */
  @Tag("matrix")
  @Test
  void reprocessAndLambdaOverSaslSslEqualTheOracleOnDirectRunner() throws Exception {
    String topic = uniqueTopic("secflows");
    Oracle.Result expected = produceWorkload(topic);
    ViewDefinition activity = Views.ACTIVITY_PER_MINUTE;
    kbOk(
        "reprocess",
        "--view",
        activity.name(),
        "--topic",
        topic,
        "--version",
        "sr1",
        "--caught-up-for",
        "PT2S",
        "--exit-after-cutover");
    assertRows(
        activity,
        expected.rows(activity),
        "oracle",
        store.readLive(activity),
        "the live view after a reprocess over SASL_SSL");
    String status = kbOk("status", "--view", activity.name()).out();
    String line =
        status
            .lines()
            .filter(l -> l.contains("sr1") && l.contains("live"))
            .findFirst()
            .orElseThrow(() -> new AssertionError("kb status over SASL_SSL:\n" + status));
    assertFalse(
        Arrays.asList(line.trim().split("\\s+")).contains("?"),
        "the lag reader authenticated (\"?\" = Kafka unreadable):\n" + status);
    // kb serve over the same listener: its lag reader authenticates too, and it serves the view.
    try (ServedViews served = ServedViews.start(connectionArgs(), "secure-sr1")) {
      Map<String, Object> sr1 =
          served.versions().stream()
              .filter(v -> activity.name().equals(v.get("view")) && "sr1".equals(v.get("version")))
              .findFirst()
              .orElseThrow(() -> new AssertionError("sr1 in kb serve's /api/versions"));
      assertEquals(null, sr1.get("lag_error"), "kb serve read the lag over SASL_SSL: " + sr1);
      assertEquals(0L, ((Number) sr1.get("lag")).longValue(), "caught up: " + sr1);
      served.assertLive(activity, "sr1", expected.rows(activity));
    }

    ViewDefinition sessions = Views.USER_SESSIONS;
    kbOk("batch", "--view", sessions.name(), "--topic", topic);
    kbOk("speed", "--view", sessions.name(), "--drain-when-caught-up");
    try (LambdaRegistry lambda =
        new LambdaRegistry(
            StoreConfig.of(stack.jdbcUrl(), stack.jdbcUser(), stack.jdbcPassword()))) {
      assertRows(
          sessions,
          expected.rows(sessions),
          "oracle",
          lambda.read(store, sessions),
          "batch + speed over SASL_SSL");
    }
  }

  /**
   * Spark (historical only: it refuses streaming) in a kb process of its own, with the JDK flags
   * scripts/kb gives Spark on Java 17 (about 10 s here).
   */
  @Tag("matrix")
  @Test
  void historicalRunOverSaslSslEqualsTheOracleOnSpark() throws Exception {
    String topic = uniqueTopic("secspark");
    Oracle.Result expected = produceWorkload(topic);
    List<String> args =
        new ArrayList<>(
            List.of(
                "run",
                "--mode",
                "historical",
                "--topic",
                topic,
                "--version",
                "ph1",
                "--runner=SparkRunner"));
    args.addAll(connectionArgs());
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String pkg :
        List.of(
            "java.lang",
            "java.lang.invoke",
            "java.lang.reflect",
            "java.io",
            "java.net",
            "java.nio",
            "java.util",
            "java.util.concurrent",
            "java.util.concurrent.atomic",
            "sun.nio.ch",
            "sun.nio.cs",
            "sun.security.action",
            "sun.util.calendar")) {
      command.add("--add-opens=java.base/" + pkg + "=ALL-UNNAMED");
    }
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), Kb.class.getName()));
    command.addAll(args);
    Path log = Files.createTempFile("kb-secure-spark", ".log");
    Process kb =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!kb.waitFor(4, TimeUnit.MINUTES)) {
      kb.destroyForcibly();
      fail("kb run on Spark did not finish in 4 minutes:\n" + Files.readString(log));
    }
    assertEquals(0, kb.exitValue(), Files.readString(log));
    for (ViewDefinition view : Views.all()) {
      assertRows(view, expected.rows(view), "oracle", store.readAll(view, "ph1"), "spark ph1");
    }
  }

  /** Wrong password: the broker refuses it at once; kb says so in one line, exit 3. */
  @Test
  void wrongCredentialsFailFastWithExit3AndOneLine() throws Exception {
    Path wrong = Files.createTempFile("kb-wrong", ".properties");
    Files.writeString(
        wrong,
        Files.readString(clientFile).replace("password=\"" + scramPassword, "password=\"wrong"));
    Failure f = kbProcess(List.of("--bootstrap-servers=" + secure, "--kafka-config=" + wrong));
    assertEquals(3, f.exitCode, f.output);
    assertTrue(f.output.contains("refused the connection"), f.output);
    assertTrue(f.output.contains("SaslAuthenticationException"), f.output);
    assertOneLineFast(f);
  }

  /** A plaintext client on the SASL_SSL port gets no answer it understands: exit 3, one line. */
  @Test
  void plaintextClientAgainstTheSecuredListenerFailsFastWithExit3() throws Exception {
    Failure f = kbProcess(List.of("--bootstrap-servers=" + secure));
    assertEquals(3, f.exitCode, f.output);
    assertTrue(f.output.contains("--kafka-config"), f.output);
    assertOneLineFast(f);
  }

  /** The password leaves its 0600 file only inside the clients: not in argv, output or options. */
  @Test
  void theScramPasswordIsInNoArgvOutputOrPipelineOption() throws Exception {
    String topic = uniqueTopic("seccanary");
    kbOk("topics", "create", topic, "--partitions", "2");
    kbOk("generate", "--topic", topic, "--count", "200", "--seed", "3");
    Path log = Files.createTempFile("kb-secure-run", ".log");
    List<String> seen = new ArrayList<>();
    List<String> args = new ArrayList<>(List.of("run", "--mode", "historical", "--topic", topic));
    args.addAll(List.of("--version", "c1", "--views", "activity_per_minute"));
    args.addAll(connectionArgs());
    Process kb = EndToEndSupport.startKbProcess(args, log.toFile());
    long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
    while (!kb.waitFor(100, TimeUnit.MILLISECONDS)) {
      sampleArgv(kb, seen);
      if (System.nanoTime() > deadline) {
        kb.destroyForcibly();
        fail("kb run did not finish in 3 minutes");
      }
    }
    String output = Files.readString(log);
    assertEquals(0, kb.exitValue(), output);
    assertTrue(String.join("\n", seen).contains("--kafka-config"), "argv was sampled");
    assertNoPassword("argv of kb and its children", String.join("\n", seen));
    assertNoPassword("kb run output", output);
    assertNoPassword("the broker log", Files.readString(stack.brokerLog()));

    // The job's options and the whole pipeline a runner gets (transforms, display data):
    // the file's path, never its contents.
    KappaBeamOptions options =
        PipelineOptionsFactory.fromArgs(
                "--bootstrapServers=" + secure,
                "--kafkaConfigFile=" + clientFile,
                "--topic=" + topic,
                "--mode=HISTORICAL",
                "--viewVersion=c2",
                "--servingStore=jdbc",
                "--jdbcUrl=" + stack.jdbcUrl(),
                "--jdbcUser=" + stack.jdbcUser())
            .as(KappaBeamOptions.class);
    RunPlan plan = KappaBeamPipeline.plan(options);
    String optionsJson = PipelineOptionsTranslation.toProto(options).toString();
    assertTrue(optionsJson.contains(clientFile.toString()), optionsJson);
    assertNoPassword("the pipeline options", optionsJson);
    String pipeline =
        new String(
            PipelineTranslation.toProto(plan.pipeline()).toByteArray(),
            StandardCharsets.ISO_8859_1);
    assertTrue(pipeline.contains(clientFile.toString()), "the pipeline names the file");
    assertNoPassword("the pipeline proto", pipeline);
  }

  @Test
  void anUnreadableOrInvalidKafkaConfigIsAUsageError() throws Exception {
    InProcessKb.Result missing =
        InProcessKb.run(
            "topics", "list", "--bootstrap-servers=" + secure, "--kafka-config=/nonexistent/x");
    assertEquals(2, missing.exitCode(), missing.describe());
    assertTrue(missing.err().contains("/nonexistent/x"), missing.describe());
    Path owning = Files.createTempFile("kb-group", ".properties");
    Files.writeString(owning, "group.id=mine\n");
    InProcessKb.Result owned =
        InProcessKb.run(
            "topics", "list", "--bootstrap-servers=" + secure, "--kafka-config=" + owning);
    assertEquals(2, owned.exitCode(), owned.describe());
    assertTrue(owned.err().contains("group.id"), owned.describe());
  }

  private static void runBothModesAndCompare(String prefix, String v, List<String> runner) {
    String topic = uniqueTopic(prefix);
    Oracle.Result expected = produceWorkload(topic);

    List<String> historical =
        new ArrayList<>(
            List.of("run", "--mode", "historical", "--topic", topic, "--version", v + "h1"));
    historical.addAll(runner);
    assertCounters(
        expectedCounters(expected, 0, expected.accepted()),
        kbOk(historical.toArray(new String[0])),
        prefix + " historical over SASL_SSL");
    List<String> drained =
        new ArrayList<>(
            List.of(
                "run",
                "--mode",
                "streaming",
                "--drain-when-caught-up",
                "--topic",
                topic,
                "--version",
                v + "s1"));
    drained.addAll(runner);
    assertCounters(
        expectedCounters(expected, 0, expected.accepted()),
        kbOk(drained.toArray(new String[0])),
        prefix + " drained streaming over SASL_SSL");
    for (ViewDefinition view : Views.all()) {
      List<org.apache.beam.sdk.values.Row> oracle = expected.rows(view);
      assertTrue(oracle.size() > 1, view.name() + ": the oracle view should not be trivial");
      assertRows(view, oracle, "oracle", store.readAll(view, v + "h1"), prefix + " h1");
      assertRows(view, oracle, "oracle", store.readAll(view, v + "s1"), prefix + " s1");
    }
  }

  /** A 3-partition topic holding the reference workload, produced by kb over SASL_SSL. */
  private static Oracle.Result produceWorkload(String topic) {
    kbOk("topics", "create", topic, "--partitions", "3");
    kbOk(
        "generate",
        "--topic",
        topic,
        "--count",
        String.valueOf(COUNT),
        "--seed",
        String.valueOf(SEED),
        "--id-prefix",
        WorkloadGenerator.DEFAULT_EVENT_ID_PREFIX,
        "--out-of-order",
        "0.05",
        "--late",
        "0.03",
        "--too-late",
        "0",
        "--duplicates",
        "0.03",
        "--malformed",
        "0.03");
    List<GeneratedRecord> records =
        WorkloadGenerator.seeded(SEED)
            .withCount(COUNT)
            .withOutOfOrderFraction(0.05)
            .withLateFraction(0.03)
            .withTooLateFraction(0.0)
            .withDuplicateFraction(0.03)
            .withMalformedFraction(0.03)
            .generate();
    return Oracle.computeFromRecords(records, ViewParameters.defaults());
  }

  private static List<String> connectionArgs() {
    return List.of(
        "--bootstrap-servers=" + secure,
        "--kafka-config=" + clientFile,
        "--jdbc-url=" + stack.jdbcUrl(),
        "--jdbc-user=" + stack.jdbcUser());
  }

  private static InProcessKb.Result kbOk(String... args) {
    List<String> all = new ArrayList<>(Arrays.asList(args));
    all.addAll(connectionArgs());
    InProcessKb.Result r = InProcessKb.run(all);
    if (r.exitCode() != 0) {
      fail("kb failed\n" + r.describe());
    }
    return r;
  }

  private record Failure(int exitCode, String output, Duration took) {}

  /** {@code kb topics list} in a JVM of its own, as a user runs it: all it prints, and how long. */
  private static Failure kbProcess(List<String> connection) throws Exception {
    Path log = Files.createTempFile("kb-secure-fail", ".log");
    List<String> args = new ArrayList<>(List.of("topics", "list"));
    args.addAll(connection);
    long start = System.nanoTime();
    Process kb = EndToEndSupport.startKbProcess(args, log.toFile());
    if (!kb.waitFor(90, TimeUnit.SECONDS)) {
      kb.destroyForcibly();
      fail("kb hung against the secured listener:\n" + Files.readString(log));
    }
    return new Failure(
        kb.exitValue(), Files.readString(log), Duration.ofNanos(System.nanoTime() - start));
  }

  private static void assertOneLineFast(Failure f) {
    List<String> lines = f.output.lines().filter(l -> !l.isBlank()).toList();
    assertEquals(1, lines.size(), "one line, no stack trace or client log:\n" + f.output);
    assertTrue(lines.get(0).startsWith("kb: error: "), f.output);
    assertTrue(f.took.compareTo(Duration.ofSeconds(40)) < 0, "took " + f.took);
    assertNoPassword("the error", f.output);
  }

  private static void sampleArgv(Process p, List<String> seen) {
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

  private static void assertNoPassword(String where, String text) {
    assertFalse(
        text.contains(scramPassword), "the SCRAM password appears in " + where + ":\n" + text);
  }
}
