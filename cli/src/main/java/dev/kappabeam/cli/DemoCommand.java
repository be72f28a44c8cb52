package dev.kappabeam.cli;

import dev.kappabeam.pipelines.kafka.KafkaOffsets;
import dev.kappabeam.serving.JdbcUrls;
import dev.kappabeam.serving.RegisteredVersion;
import dev.kappabeam.serving.StoreConfig;
import dev.kappabeam.serving.ViewDiff;
import dev.kappabeam.serving.ViewRegistry;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.Views;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.beam.sdk.values.Row;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code kb demo}: the main job end to end on the running stack, then a Kappa logic change.
 *
 * <p>Part 1 creates a fresh topic, generates the reference workload into it (with out-of-order,
 * late, duplicate and malformed records), runs the streaming job (drained when caught up) and the
 * historical job over the same topic into two view versions, and verifies that every view is
 * identical in both.
 *
 * <p>Part 2 changes the logic of one view the Kappa way: the streaming version becomes v1 and goes
 * live; {@code kb reprocess} replays the log into v2 with a changed parameter ({@code
 * --exclude-types view} on {@code activity_per_minute}) as a streaming job, which cuts over
 * atomically once it has caught up; the demo shows what changed between v1 and v2, rolls back and
 * forward once, and drops v1. Versions carry the run's timestamp, so running the demo again on the
 * same stack creates new ones.
 */
@Command(
    name = "demo",
    description = {
      "Run the main job end to end: generate a workload, run it in streaming and in historical",
      "mode over the same topic, and verify that the views agree. Then change the logic of one",
      "view the Kappa way: v1 live, reprocess to v2 with a changed parameter, cut over",
      "atomically, show the difference, roll back and forward, drop v1.",
      "Needs 'kb local up' first."
    },
    mixinStandardHelpOptions = true)
final class DemoCommand implements Callable<Integer> {
  /** The view whose logic the Kappa part changes, and the change. */
  static final ViewDefinition KAPPA_VIEW = Views.ACTIVITY_PER_MINUTE;

  static final String EXCLUDED_TYPE = "view";

  /** Lines of the v1/v2 difference shown; the rest is one 'kb verify' away. */
  private static final int DIFF_LINES = 8;

  @Mixin Connections connections;

  @Option(
      names = "--count",
      defaultValue = "3000",
      description = "Records to generate (default ${DEFAULT-VALUE}).")
  int count;

  @Option(
      names = "--partitions",
      defaultValue = "3",
      description = "Partitions of the demo topic (default ${DEFAULT-VALUE}).")
  int partitions;

  @Option(
      names = "--seed",
      defaultValue = "42",
      description = "Workload seed (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--caught-up-for",
      defaultValue = "PT5S",
      description =
          "Kappa part: the reprocess cuts over once caught up for this long"
              + " (default ${DEFAULT-VALUE}).")
  String caughtUpFor;

  @Option(
      names = "--skip-kappa",
      description = "Stop after the streaming/historical comparison (no reprocess).")
  boolean skipKappa;

  @Override
  public Integer call() {
    long begun = System.nanoTime();
    String id = LocalDateTime.now().format(DateTimeFormatter.ofPattern("MMddHHmmss"));
    String topic = "demo-" + id;
    // The streaming version is v1 of the Kappa part; the historical one is only compared.
    String v1 = "v1_" + id;
    String batch = "batch_" + id;
    String v2 = "v2_" + id;
    List<String> common = connectionArgs();
    int steps = skipKappa ? 5 : 10;
    int differing = buildBothWays(topic, v1, batch, common, steps);
    System.out.println();
    if (differing > 0) {
      System.out.println(
          "kb demo: "
              + differing
              + " view(s) differ between streaming and historical runs (see above)");
      return ExitCodes.DIFFERENT;
    }
    System.out.println("kb demo: the streaming and the historical run gave identical views.");
    if (!skipKappa) {
      kappa(topic, v1, v2, common);
    }
    System.out.println();
    System.out.printf("kb demo: done in %s. Next:%n", seconds(System.nanoTime() - begun));
    printNext(topic, v1, batch, v2);
    return ExitCodes.OK;
  }

  /**
   * Steps 1 to 5: a topic with a generated workload, built by a drained streaming run into {@code
   * v1} and a historical run into {@code batch}; returns how many views differ between the two.
   */
  private int buildBothWays(String topic, String v1, String batch, List<String> common, int steps) {
    step(1, steps, "create topic " + topic + " (" + partitions + " partitions)");
    run(
        concat(
            List.of("topics", "create", topic, "--partitions", String.valueOf(partitions)),
            common));
    step(2, steps, "generate " + count + " records (out-of-order, late, duplicates, malformed)");
    run(
        concat(
            List.of(
                "generate",
                "--topic",
                topic,
                "--count",
                String.valueOf(count),
                "--seed",
                String.valueOf(seed),
                "--out-of-order",
                "0.05",
                "--late",
                "0.02",
                "--duplicates",
                "0.03",
                "--malformed",
                "0.03"),
            common));
    step(3, steps, "streaming job (drained when caught up) into version " + v1);
    run(
        concat(
            List.of(
                "run",
                "--mode",
                "streaming",
                "--drain-when-caught-up",
                "--topic",
                topic,
                "--version",
                v1),
            common));
    step(4, steps, "historical job into version " + batch);
    run(
        concat(
            List.of("run", "--mode", "historical", "--topic", topic, "--version", batch), common));
    step(5, steps, "verify: streaming and historical views must be identical");
    int differing = 0;
    for (ViewDefinition v : Views.all()) {
      int code =
          Kb.execute(
              concat(List.of("verify", "--view", v.name(), "--a", v1, "--b", batch), common)
                  .toArray(new String[0]));
      if (code != ExitCodes.OK) {
        differing++;
      }
    }
    return differing;
  }

  /** What to look at next, with the commands. */
  private void printNext(String topic, String v1, String batch, String v2) {
    System.out.println("  scripts/kb status");
    if (!skipKappa) {
      System.out.println(
          "  scripts/kb views export --view "
              + KAPPA_VIEW.name()
              + " --version "
              + v2
              + " --format csv | head");
      System.out.println(
          "  SQL on the serving store ("
              + JdbcUrls.redact(connections.requireJdbcUrl())
              + ", user "
              + connections.jdbcUser()
              + "): SELECT * FROM "
              + KAPPA_VIEW.name()
              + "   (the live version, "
              + v2
              + ")");
    }
    System.out.println(
        "  scripts/kb views export --view user_sessions --version "
            + batch
            + " --format csv | head");
    System.out.println(
        "  scripts/kb verify --view item_revenue_hourly --a " + v1 + " --b " + batch);
    System.out.println(
        "  dead letters and late events: topics " + topic + ".dlq and " + topic + ".late");
    System.out.println(
        "  scripts/kb local down   (stops the stack; data stays in " + connections.dataDir() + ")");
  }

  /** Part 2: the logic change of {@link #KAPPA_VIEW}, v1 → v2, the way an operator does it. */
  private void kappa(String topic, String v1, String v2, List<String> common) {
    String view = KAPPA_VIEW.name();
    StoreConfig config = connections.store();
    try (ViewStore store = new ViewStore(config);
        ViewRegistry registry = new ViewRegistry(config)) {
      System.out.println();
      System.out.println(
          "Kappa logic change on "
              + view
              + ": leave '"
              + EXCLUDED_TYPE
              + "' events out, by replaying the log into a new version while v1 keeps serving.");

      step(6, 10, "make v1 live: kb cutover --view " + view + " --version " + v1);
      run(concat(List.of("cutover", "--view", view, "--version", v1), common));
      showLive(store, view);

      step(
          7,
          10,
          "reprocess into "
              + v2
              + " with --exclude-types "
              + EXCLUDED_TYPE
              + ": a streaming job from earliest with its own consumer group and table; it cuts"
              + " over atomically once caught up");
      reprocess(topic, v2, common, registry);
      showLive(store, view);

      step(8, 10, "what changed: kb verify --view " + view + " --a " + v1 + " --b " + v2);
      showChange(store, v1, v2);

      step(9, 10, "roll back to v1, then forward to v2: kb rollback, kb cutover");
      run(concat(List.of("rollback", "--view", view), common));
      requireLive(registry, view, v1, "after the rollback");
      showLive(store, view);
      run(concat(List.of("cutover", "--view", view, "--version", v2), common));
      requireLive(registry, view, v2, "after cutting over again");
      showLive(store, view);

      step(10, 10, "drop v1: kb drop --view " + view + " --version " + v1);
      run(concat(List.of("drop", "--view", view, "--version", v1), common));
      run(concat(List.of("status", "--view", view), common));
    }
  }

  /** Step 7's command: the reprocess into {@code v2}, then how fast it caught up. */
  private void reprocess(String topic, String v2, List<String> common, ViewRegistry registry) {
    String view = KAPPA_VIEW.name();
    long records = records(topic);
    long started = System.nanoTime();
    run(
        concat(
            List.of(
                "reprocess",
                "--view",
                view,
                "--version",
                v2,
                "--topic",
                topic,
                "--exclude-types",
                EXCLUDED_TYPE,
                "--caught-up-for",
                caughtUpFor,
                "--exit-after-cutover"),
            common));
    Duration wall = Duration.ofNanos(System.nanoTime() - started);
    RegisteredVersion r2 = registry.get(view, v2).orElseThrow();
    requireLive(registry, view, v2, "after the reprocess");
    if (r2.startedAt() != null && r2.caughtUpAt() != null) {
      Duration catchUp = Duration.between(r2.startedAt(), r2.caughtUpAt());
      System.out.printf(
          "catch-up: %s replayed %,d records in %s (%,.0f records/s), steady for %s, then cut"
              + " over; the reprocess command took %s%n",
          v2,
          records,
          seconds(catchUp.toNanos()),
          records / Math.max(0.001, catchUp.toMillis() / 1000.0),
          caughtUpFor,
          seconds(wall.toNanos()));
    }
  }

  /** Step 8: the rows that differ between {@code v1} and {@code v2}, the first few of them. */
  private static void showChange(ViewStore store, String v1, String v2) {
    String view = KAPPA_VIEW.name();
    ViewDiff diff = store.diff(KAPPA_VIEW, v1, v2);
    if (diff.isEmpty()) {
      throw new CliException(
          ExitCodes.RUN_FAILED,
          "demo: " + v1 + " and " + v2 + " are identical; the logic change had no effect");
    }
    String[] lines = diff.format(v1, v2).split("\n");
    for (int i = 0; i < Math.min(lines.length, DIFF_LINES + 1); i++) {
      System.out.println(lines[i]);
    }
    if (lines.length > DIFF_LINES + 1) {
      System.out.printf(
          "  ... %d more (all of them: scripts/kb verify --view %s --a %s --b %s)%n",
          lines.length - DIFF_LINES - 1, view, v1, v2);
    }
  }

  /** What a reader of the alias sees now: a plain {@code SELECT} on the view's name. */
  private static void showLive(ViewStore store, String view) {
    List<Row> rows = store.readLive(KAPPA_VIEW);
    long events = 0;
    for (Row r : rows) {
      events += r.getInt64("events");
    }
    System.out.printf("SELECT * FROM %s -> %,d rows, %,d events%n", view, rows.size(), events);
  }

  private static void requireLive(ViewRegistry registry, String view, String version, String when) {
    String live = registry.live(view).orElse("-");
    if (!live.equals(version)) {
      throw new CliException(
          ExitCodes.RUN_FAILED,
          "demo: " + when + " " + view + " should read " + version + " but reads " + live);
    }
  }

  /** Records in the topic, which the reprocess replays from earliest. */
  private long records(String topic) {
    try (KafkaOffsets kafka = new KafkaOffsets(connections.kafka())) {
      List<TopicPartition> parts = kafka.partitions(topic);
      Map<TopicPartition, Long> start = kafka.offsets(parts, OffsetSpec.earliest());
      Map<TopicPartition, Long> end = kafka.offsets(parts, OffsetSpec.latest());
      long n = 0;
      for (TopicPartition tp : parts) {
        n += end.get(tp) - start.get(tp);
      }
      return n;
    }
  }

  private List<String> connectionArgs() {
    return new ArrayList<>(connections.forwardArgs());
  }

  private static String seconds(long nanos) {
    long s = Math.round(nanos / 1e9);
    return s < 60 ? s + " s" : String.format("%d min %02d s", s / 60, s % 60);
  }

  private static void step(int n, int of, String what) {
    System.out.println();
    System.out.println("== " + n + "/" + of + " " + what);
  }

  private static void run(List<String> args) {
    int code = Kb.execute(args.toArray(new String[0]));
    if (code != ExitCodes.OK) {
      throw new CliException(
          code,
          "demo step failed: kb "
              + String.join(" ", args.subList(0, 2))
              + " ... (exit "
              + code
              + ")");
    }
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }
}
