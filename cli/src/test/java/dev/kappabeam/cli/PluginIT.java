package dev.kappabeam.cli;

import static dev.kappabeam.cli.EndToEndSupport.kbArgs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kappabeam.cli.plugintest.OrderEventsViews;
import dev.kappabeam.cli.plugintest.OrdersViews;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewProvider;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A team's views from a jar of their own ({@link OrdersViews}, packed here with its
 * META-INF/services entry and put on kb's class path as {@code scripts/kb --plugin} does): kb lists
 * them, runs them historical and drained streaming and reprocesses them (with cutover) on
 * DirectRunner and Flink (the Flink rows tagged "matrix") into the serving store, and exports their
 * rows, which equal the rows computed here from the records produced. Without the jar, the view is
 * unknown (exit 2).
 */
@Timeout(value = 8, unit = TimeUnit.MINUTES)
class PluginIT {
  private static final Instant T0 = Instant.parse("2026-11-25T10:00:00Z");
  private static final String VIEW = "purchases_per_user_hourly";

  @TempDir static Path tempDir;

  private static ItStack it;
  private static Path jar;
  private static String topic;
  private static Map<String, String> expected;
  private static String ordersTopic;

  /** The own-format views' rows, keyed "view|key columns" (see {@link #orders}). */
  private static Map<String, long[]> expectedOrders;

  @BeforeAll
  static void start() throws Exception {
    it = ItStack.start("PluginIT");
    jar = pluginJar(tempDir.resolve("orders-views.jar"));
    topic = EndToEndSupport.uniqueTopic("plugin");
    it.kafka.admin().createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get();
    expected = produce();
    ordersTopic = EndToEndSupport.uniqueTopic("orders");
    it.kafka.admin().createTopics(List.of(new NewTopic(ordersTopic, 2, (short) 1))).all().get();
    expectedOrders = produceOrders();
  }

  @AfterAll
  static void stop() {
    if (it != null) {
      it.close();
    }
  }

  @Test
  void catalogListsThePluginsViewAfterTheReferenceViews() throws Exception {
    Run r = kbWithPlugin(List.of("views", "catalog"), false);
    assertEquals(0, r.exitCode, r.output);
    List<String> lines = r.output.lines().collect(Collectors.toList());
    int header = lines.indexOf("view\torigin\tkind\tkey_columns\tcolumns");
    assertTrue(header >= 0, r.output);
    assertEquals(
        List.of(
            "activity_per_minute",
            "item_revenue_hourly",
            "user_sessions",
            VIEW,
            OrderEventsViews.REVENUE_PER_CURRENCY.name(),
            OrderEventsViews.PAID_PER_CUSTOMER.name(),
            OrderEventsViews.PAID_SLIDING.name()),
        lines.subList(header + 1, header + 8).stream()
            .map(l -> l.split("\t")[0])
            .collect(Collectors.toList()),
        r.output);
    assertEquals(
        VIEW
            + "\t"
            + OrdersViews.class.getName()
            + "\tkeyed\twindow_start,user_id\t"
            + "window_start:DATETIME,user_id:STRING,purchases:INT64,revenue_cents:INT64",
        lines.get(header + 4));
  }

  @Test
  void withoutThePluginTheViewIsUnknown() {
    String[] args = {
      "run", "--mode=historical", "--topic=" + topic, "--version=x2", "--views=" + VIEW
    };
    InProcessKb.Result unknown = InProcessKb.run(kbArgs(it.stack, args));
    assertEquals(ExitCodes.USAGE, unknown.exitCode(), unknown.describe());
    assertTrue(unknown.err().contains("unknown view " + VIEW), unknown.describe());
  }

  /** scripts/kb checks the jars it is given before anything else (no build, no JVM). */
  @Test
  void theLauncherRefusesAMissingPluginJarWithExitTwo() throws Exception {
    Path kb = Path.of("..", "scripts", "kb").toAbsolutePath().normalize();
    for (List<String> command :
        List.of(
            List.of(
                "bash", kb.toString(), "--plugin", "/nonexistent/views.jar", "views", "catalog"),
            List.of("bash", kb.toString(), "views", "catalog", "--plugin=/nonexistent/views.jar"),
            List.of("bash", kb.toString(), "views", "catalog", "--plugin"))) {
      ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
      pb.environment().remove("KB_PLUGINS");
      Process p = pb.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(30, TimeUnit.SECONDS), out);
      assertEquals(2, p.exitValue(), command + "\n" + out);
      assertTrue(out.startsWith("kb: error: "), out);
      assertEquals(1, out.lines().count(), out);
    }
    ProcessBuilder env = new ProcessBuilder("bash", kb.toString(), "views", "catalog");
    env.environment().put("KB_PLUGINS", "/nonexistent/a.jar");
    Process p = env.redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), out);
    assertEquals(2, p.exitValue(), out);
    assertTrue(out.contains("/nonexistent/a.jar"), out);
  }

  /**
   * Tagged {@code matrix} (CI runs it): the own-format view's Direct test below runs a plug-in's
   * view in both modes in the default suite.
   */
  @Tag("matrix")
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"historical", "streaming"})
  void thePluginsViewRunsOnDirectAndEqualsItsOracle(String mode) throws Exception {
    runsAndEqualsItsOracle("direct", mode);
  }

  /**
   * A view of events in the team's own format (orders as JSON of its own shape, {@link
   * OrderEventsViews}): parsed, de-duplicated by the format's id and dead-lettered by the format's
   * rules, windowed and exported like any view, historical and drained streaming; the counts add up
   * and {@code kb verify} finds the two versions identical.
   */
  @Test
  void aPluginsOwnEventFormatRunsBothModesOnDirectAndEqualsItsOracle() throws Exception {
    ownFormatRunsBothModes("direct");
  }

  @Tag("matrix")
  @Test
  void aPluginsOwnEventFormatRunsBothModesOnFlinkAndEqualsItsOracle() throws Exception {
    ownFormatRunsBothModes("flink");
  }

  private static void ownFormatRunsBothModes(String runner) throws Exception {
    ownFormatRunsAndEqualsItsOracle(runner, "historical");
    ownFormatRunsAndEqualsItsOracle(runner, "streaming");
    String prefix = "o" + runner.charAt(0);
    Run verify =
        kbWithPlugin(
            List.of(
                "verify",
                "--view",
                OrderEventsViews.REVENUE_PER_CURRENCY.name(),
                "--a",
                prefix + "h",
                "--b",
                prefix + "s"));
    assertEquals(0, verify.exitCode, verify.output);
    assertTrue(verify.output.contains("identical"), verify.output);
    registryCommandsTakeThePluginsView(OrderEventsViews.PAID_PER_CUSTOMER.name(), prefix);
  }

  /**
   * kb cutover, rollback, drop and views list with a plug-in's view (a global-window view, whose
   * table has no time column): the two versions built above go live in turn, the first comes back,
   * the second is dropped.
   */
  private static void registryCommandsTakeThePluginsView(String view, String prefix)
      throws Exception {
    String first = prefix + "h";
    String second = prefix + "s";
    Run cut = kbWithPlugin(List.of("cutover", "--view", view, "--version", first));
    assertEquals(0, cut.exitCode, cut.output);
    cut = kbWithPlugin(List.of("cutover", "--view", view, "--version", second));
    assertEquals(0, cut.exitCode, cut.output);
    assertTrue(
        cut.output.contains(view + " now reads " + second + " (" + first + " retired)"),
        cut.output);
    Run back = kbWithPlugin(List.of("rollback", "--view", view));
    assertEquals(0, back.exitCode, back.output);
    assertTrue(back.output.contains(view + " now reads " + first), back.output);
    Run drop = kbWithPlugin(List.of("drop", "--view", view, "--version", second));
    assertEquals(0, drop.exitCode, drop.output);
    Run list = kbWithPlugin(List.of("views", "list"));
    assertEquals(0, list.exitCode, list.output);
    long customers = rendered(expectedOrders, OrderEventsViews.PAID_PER_CUSTOMER).size();
    assertTrue(
        list.output.lines().anyMatch(l -> l.equals(view + "\t" + first + "\t" + customers)),
        list.output);
    assertFalse(
        list.output.lines().anyMatch(l -> l.startsWith(view + "\t" + second + "\t")), list.output);
    Run status = kbWithPlugin(List.of("status", "--view", view));
    assertEquals(0, status.exitCode, status.output);
    assertTrue(
        status.output.lines().anyMatch(l -> l.contains(first) && l.contains("live")),
        status.output);
  }

  /** The plug-in's views of its own format: fixed, global and sliding windows. */
  private static final List<ViewDefinition> ORDER_VIEWS =
      List.of(
          OrderEventsViews.REVENUE_PER_CURRENCY,
          OrderEventsViews.PAID_PER_CUSTOMER,
          OrderEventsViews.PAID_SLIDING);

  private static void ownFormatRunsAndEqualsItsOracle(String runner, String mode) throws Exception {
    String views = ORDER_VIEWS.stream().map(ViewDefinition::name).collect(Collectors.joining(","));
    String version = "o" + runner.charAt(0) + mode.substring(0, 1);
    List<String> args =
        new ArrayList<>(
            List.of(
                "run",
                "--mode",
                mode,
                "--topic",
                ordersTopic,
                "--version",
                version,
                "--views",
                views));
    if (mode.equals("streaming")) {
      args.add("--drain-when-caught-up");
    }
    args.addAll(runner(runner));
    Run run = kbWithPlugin(args);
    assertEquals(0, run.exitCode, run.output);
    // 41 records: 38 distinct events, one producer retry, two dead letters.
    assertTrue(
        run.output.contains("read=41")
            && run.output.contains("accepted=38")
            && run.output.contains("dead_lettered=2")
            && run.output.contains("duplicates_removed=1"),
        run.output);
    for (ViewDefinition view : ORDER_VIEWS) {
      Path out = exportJsonl(view.name(), version);
      assertEquals(
          rendered(expectedOrders, view), orderRows(view, out), runner + " " + mode + " " + view);
    }
  }

  /**
   * Lambda over the team's own format: a batch up to a cutoff, more orders and a re-sent copy of an
   * order from before the cutoff, a drained speed run from it; the merged read (by the view's merge
   * rules) equals the view of every order, the copy counted once.
   */
  @Tag("matrix") // examples/orders' OrdersLambdaIT keeps a plug-in's Lambda in the default suite
  @Test
  void aPluginsOwnEventFormatViewMergesInLambda() throws Exception {
    String views = ORDER_VIEWS.stream().map(ViewDefinition::name).collect(Collectors.joining(","));
    String lambdaTopic = EndToEndSupport.uniqueTopic("orders-lambda");
    it.kafka.admin().createTopics(List.of(new NewTopic(lambdaTopic, 2, (short) 1))).all().get();
    Map<String, long[]> rows = new TreeMap<>();
    List<ProducerRecord<byte[], byte[]>> before = orders(lambdaTopic, 0, 12, rows);
    it.kafka.produce(before);
    Run batch = kbWithPlugin(List.of("batch", "--views", views, "--topic", lambdaTopic));
    assertEquals(0, batch.exitCode, batch.output);
    List<ProducerRecord<byte[], byte[]>> after = orders(lambdaTopic, 12, 25, rows);
    after.add(before.get(before.size() - 1)); // a producer's retry across the cutoff
    it.kafka.produce(after);
    Run speed = kbWithPlugin(List.of("speed", "--views", views, "--drain-when-caught-up"));
    assertEquals(0, speed.exitCode, speed.output);
    assertTrue(speed.output.contains("duplicates_removed=1"), speed.output);
    // Fixed and sliding windows that span the cutoff, and every customer's running total, are
    // a batch row plus a speed row added up by the views' merge rules.
    for (ViewDefinition view : ORDER_VIEWS) {
      Path out = tempDir.resolve("lambda-" + view.name() + ".jsonl");
      Run read =
          kbWithPlugin(
              List.of(
                  "lambda",
                  "read",
                  "--view",
                  view.name(),
                  "--format",
                  "jsonl",
                  "--out",
                  out.toString()));
      assertEquals(0, read.exitCode, read.output);
      assertEquals(rendered(rows, view), orderRows(view, out), view.name());
    }
  }

  /**
   * Rows of one of the order views in JSON lines as "key columns" → "orders revenue_cents" (a
   * DATETIME key as its instant).
   */
  private static Map<String, String> orderRows(ViewDefinition view, Path jsonl) throws IOException {
    Map<String, String> actual = new TreeMap<>();
    ObjectMapper json = new ObjectMapper();
    for (String line : Files.readAllLines(jsonl)) {
      JsonNode row = json.readTree(line);
      List<String> key = new ArrayList<>();
      for (String column : view.keyColumns()) {
        String text = row.get(column).asText();
        key.add(column.equals("window_start") ? Instant.parse(text).toString() : text);
      }
      actual.put(
          String.join(" ", key),
          row.get("orders").asLong() + " " + row.get("revenue_cents").asLong());
    }
    return actual;
  }

  /** The Flink rows (tag "matrix": scripts/test-matrix, CI). */
  @Tag("matrix")
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"historical", "streaming"})
  void thePluginsViewRunsOnFlinkAndEqualsItsOracle(String mode) throws Exception {
    runsAndEqualsItsOracle("flink", mode);
  }

  /**
   * Tagged {@code matrix} (CI runs it, as the Flink row): kappa's and cli's {@code ReprocessIT}
   * keep the reprocess on DirectRunner in the default suite.
   */
  @Tag("matrix")
  @Test
  void aReprocessOfThePluginsViewOnDirectCatchesUpAndCutsOver() throws Exception {
    reprocessCutsOver("direct");
  }

  @Tag("matrix")
  @Test
  void aReprocessOfThePluginsViewOnFlinkCatchesUpAndCutsOver() throws Exception {
    reprocessCutsOver("flink");
  }

  private static List<String> runner(String runner) {
    return runner.equals("flink")
        ? List.of(
            "--runner=FlinkRunner", "--flinkMaster=[local]", "--data-dir=" + it.stack.dataDir())
        : List.of();
  }

  private static void runsAndEqualsItsOracle(String runner, String mode) throws Exception {
    String version = runner.charAt(0) + mode.substring(0, 1) + "1";
    List<String> args =
        new ArrayList<>(
            List.of(
                "run", "--mode", mode, "--topic", topic, "--version", version, "--views", VIEW));
    if (mode.equals("streaming")) {
      args.add("--drain-when-caught-up");
    }
    args.addAll(runner(runner));
    Run run = kbWithPlugin(args);
    assertEquals(0, run.exitCode, run.output);
    assertEquals(expected, exported(version), runner + " " + mode);
  }

  private static void reprocessCutsOver(String runner) throws Exception {
    String version = "r" + runner.charAt(0) + "1";
    List<String> args =
        new ArrayList<>(
            List.of(
                "reprocess",
                "--view",
                VIEW,
                "--version",
                version,
                "--topic",
                topic,
                "--caught-up-for",
                "PT3S",
                "--exit-after-cutover"));
    args.addAll(runner(runner));
    Run reprocess = kbWithPlugin(args);
    assertEquals(0, reprocess.exitCode, reprocess.output);
    assertTrue(reprocess.output.contains("now reads " + version), reprocess.output);
    assertEquals(expected, exported(version), runner);
    Run status = kbWithPlugin(List.of("status", "--view", VIEW));
    assertEquals(0, status.exitCode, status.output);
    assertTrue(
        status.output.lines().anyMatch(l -> l.contains(version) && l.contains("live")),
        status.output);
    try (ServedViews served =
        ServedViews.start(kbArgs(it.stack), "plugin-" + runner, pluginClassPath())) {
      served.assertLive(OrdersViews.PURCHASES_PER_USER_HOURLY, version, expectedRows());
    }
  }

  /** {@link #expected} as rows of the view. */
  private static List<org.apache.beam.sdk.values.Row> expectedRows() {
    List<org.apache.beam.sdk.values.Row> rows = new ArrayList<>();
    expected.forEach(
        (hourAndUser, counts) -> {
          String[] k = hourAndUser.split(" ");
          String[] v = counts.split(" ");
          rows.add(
              org.apache.beam.sdk.values.Row.withSchema(
                      OrdersViews.PURCHASES_PER_USER_HOURLY.schema())
                  .addValues(
                      new org.joda.time.Instant(Instant.parse(k[0]).toEpochMilli()),
                      k[1],
                      Long.parseLong(v[0]),
                      Long.parseLong(v[1]))
                  .build());
        });
    return rows;
  }

  /** kb views export of a version as JSON lines, into a file of its own; fails unless exit 0. */
  private static Path exportJsonl(String view, String version) throws Exception {
    Path out = tempDir.resolve(version + "-" + view + ".jsonl");
    Run export =
        kbWithPlugin(
            List.of(
                "views",
                "export",
                "--view",
                view,
                "--version",
                version,
                "--format",
                "jsonl",
                "--out",
                out.toString()));
    assertEquals(0, export.exitCode, export.output);
    return out;
  }

  /** A version's rows, exported by kb, as "hour user" → "purchases revenue". */
  private static Map<String, String> exported(String version) throws Exception {
    Path out = exportJsonl(VIEW, version);
    Map<String, String> actual = new TreeMap<>();
    ObjectMapper json = new ObjectMapper();
    for (String line : Files.readAllLines(out)) {
      JsonNode row = json.readTree(line);
      actual.put(
          Instant.parse(row.get("window_start").asText()) + " " + row.get("user_id").asText(),
          row.get("purchases").asLong() + " " + row.get("revenue_cents").asLong());
    }
    return actual;
  }

  /**
   * Purchases of four users over three hours (every fifth record a page view, which the view does
   * not take), one purchase sent twice and one malformed record; returns the view's rows as "hour
   * user" → "purchases revenue".
   */
  private static Map<String, String> produce() {
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    Map<String, long[]> rows = new TreeMap<>();
    for (int i = 0; i < 60; i++) {
      String user = "u-" + (i % 4);
      Instant ts = T0.plus(Duration.ofMinutes(3L * i));
      boolean purchase = i % 5 != 0;
      String value =
          purchase
              ? "{\"event_id\":\"p-"
                  + i
                  + "\",\"user_id\":\""
                  + user
                  + "\",\"type\":\"purchase\",\"item\":\"sku-1\",\"amount_cents\":"
                  + (100 + i)
                  + ",\"ts\":\""
                  + ts
                  + "\"}"
              : "{\"event_id\":\"p-"
                  + i
                  + "\",\"user_id\":\""
                  + user
                  + "\",\"type\":\"view\""
                  + ",\"ts\":\""
                  + ts
                  + "\"}";
      records.add(record(user, value));
      if (i == 7) {
        records.add(record(user, value)); // sent twice: counted once
      }
      if (purchase) {
        Instant hour = T0.plus(Duration.ofHours(Duration.between(T0, ts).toHours()));
        long[] r = rows.computeIfAbsent(hour + " " + user, k -> new long[2]);
        r[0]++;
        r[1] += 100 + i;
      }
    }
    records.add(record("u-0", "{not json"));
    it.kafka.produce(records);
    Map<String, String> out = new TreeMap<>();
    rows.forEach((k, v) -> out.put(k, v[0] + " " + v[1]));
    return out;
  }

  private static ProducerRecord<byte[], byte[]> record(String key, String value) {
    return record(topic, key, value);
  }

  private static ProducerRecord<byte[], byte[]> record(String topic, String key, String value) {
    return new ProducerRecord<>(
        topic, key.getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Nineteen orders, each placed then paid a minute later (38 events, in EUR or USD), one paid
   * event sent twice, one record that is not JSON and one whose total is text; returns the view's
   * rows as "window currency" → "paid orders, revenue".
   */
  private static Map<String, long[]> produceOrders() {
    Map<String, long[]> rows = new TreeMap<>();
    List<ProducerRecord<byte[], byte[]>> records = orders(ordersTopic, 0, 19, rows);
    records.add(
        records.stream()
            .filter(r -> new String(r.value(), StandardCharsets.UTF_8).contains("o-5\","))
            .toList()
            .get(1));
    records.add(record(ordersTopic, "c-0", "not json"));
    records.add(
        record(
            ordersTopic,
            "c-0",
            "{\"order_id\":\"o-99\",\"customer\":{\"id\":\"c-0\"},\"status\":\"paid\","
                + "\"total_cents\":\"lots\",\"currency\":\"EUR\",\"ts\":\""
                + T0
                + "\"}"));
    it.kafka.produce(records);
    return rows;
  }

  /**
   * Orders {@code from} to {@code to} (exclusive), each placed then paid a minute later, two
   * minutes apart from T0; their paid orders added to {@code rows} ("window currency" → orders,
   * revenue).
   */
  private static List<ProducerRecord<byte[], byte[]>> orders(
      String topic, int from, int to, Map<String, long[]> rows) {
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    for (int i = from; i < to; i++) {
      String customer = "c-" + (i % 3);
      String currency = i % 4 == 0 ? "USD" : "EUR";
      long cents = 500 + 10L * i;
      Instant placed = T0.plus(Duration.ofMinutes(2L * i));
      Instant paid = placed.plus(Duration.ofMinutes(1));
      for (String status : List.of("placed", "paid")) {
        Instant ts = status.equals("placed") ? placed : paid;
        String value =
            String.format(
                "{\"order_id\":\"o-%d\",\"customer\":{\"id\":\"%s\"},\"status\":\"%s\","
                    + "\"total_cents\":%d,\"currency\":\"%s\",\"ts\":\"%s\"}",
                i, customer, status, cents, currency, ts);
        records.add(record(topic, customer, value));
      }
      // The oracle: the paid order in its 5-minute window, in the two 10-minute windows every 5
      // minutes that cover it, and in its customer's total.
      long minute = Duration.between(T0, paid).toMinutes();
      Instant window = T0.plus(Duration.ofMinutes(minute - minute % 5));
      List<String> keys =
          List.of(
              OrderEventsViews.REVENUE_PER_CURRENCY.name() + "|" + window + " " + currency,
              OrderEventsViews.PAID_SLIDING.name() + "|" + window + " " + currency,
              OrderEventsViews.PAID_SLIDING.name()
                  + "|"
                  + window.minus(Duration.ofMinutes(5))
                  + " "
                  + currency,
              OrderEventsViews.PAID_PER_CUSTOMER.name() + "|" + customer);
      for (String key : keys) {
        long[] r = rows.computeIfAbsent(key, k -> new long[2]);
        r[0]++;
        r[1] += cents;
      }
    }
    return records;
  }

  /** The oracle's rows of {@code view}, rendered as {@link #orderRows} reads them. */
  private static Map<String, String> rendered(Map<String, long[]> rows, ViewDefinition view) {
    Map<String, String> out = new TreeMap<>();
    rows.forEach(
        (k, v) -> {
          if (k.startsWith(view.name() + "|")) {
            out.put(k.substring(view.name().length() + 1), v[0] + " " + v[1]);
          }
        });
    return out;
  }

  /** The plug-in's classes and its service entry, in a jar of their own. */
  private static Path pluginJar(Path jar) throws IOException {
    Path classes =
        Path.of(
                OrdersViews.class
                    .getResource("/" + OrdersViews.class.getName().replace('.', '/') + ".class")
                    .getPath())
            .getParent();
    try (OutputStream file = Files.newOutputStream(jar);
        JarOutputStream out = new JarOutputStream(file);
        Stream<Path> files = Files.list(classes)) {
      for (Path c : files.collect(Collectors.toList())) {
        out.putNextEntry(
            new JarEntry("dev/kappabeam/cli/plugintest/" + c.getFileName().toString()));
        out.write(Files.readAllBytes(c));
        out.closeEntry();
      }
      out.putNextEntry(new JarEntry("META-INF/services/" + ViewProvider.class.getName()));
      out.write(
          (OrdersViews.class.getName() + "\n" + OrderEventsViews.class.getName() + "\n")
              .getBytes(StandardCharsets.UTF_8));
      out.closeEntry();
    }
    return jar;
  }

  private record Run(int exitCode, String output) {}

  /**
   * kb in a JVM of its own, as {@code scripts/kb --plugin} starts it: kb's class path without this
   * test's classes, plus the plug-in jar (so the plug-in's classes come from the jar only).
   */
  private static Run kbWithPlugin(List<String> args) throws Exception {
    return kbWithPlugin(kbArgs(it.stack, args.toArray(String[]::new)), false);
  }

  /** The same; {@code connect}: with the flags that point kb at the stack. */
  private static Run kbWithPlugin(List<String> args, boolean connect) throws Exception {
    if (connect) {
      return kbWithPlugin(args);
    }
    File log = Files.createTempFile(tempDir, "kb", ".log").toFile();
    Process p = EndToEndSupport.startKbProcess(pluginClassPath(), List.of(), args, log);
    if (!p.waitFor(5, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError(
          "kb " + args + " did not finish:\n" + Files.readString(log.toPath()));
    }
    return new Run(p.exitValue(), Files.readString(log.toPath()));
  }

  /** kb's class path without this test's classes, plus the plug-in jar. */
  private static String pluginClassPath() throws Exception {
    String testClasses =
        Path.of(PluginIT.class.getProtectionDomain().getCodeSource().getLocation().toURI())
            .toString();
    return Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
            .filter(e -> !Path.of(e).toAbsolutePath().toString().equals(testClasses))
            .collect(Collectors.joining(File.pathSeparator))
        + File.pathSeparator
        + jar;
  }
}
