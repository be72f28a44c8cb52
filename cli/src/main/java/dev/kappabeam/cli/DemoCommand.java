package dev.kappabeam.cli;

import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.Views;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code kb demo}: the main job end to end on the running stack. Creates a fresh topic, generates
 * the reference workload into it (with out-of-order, late, duplicate and malformed records), runs
 * the streaming job (drained when caught up) and the historical job over the same topic into two
 * view versions, and verifies that every view is identical in both.
 */
@Command(
    name = "demo",
    description = {
      "Run the main job end to end: generate a workload, run it in streaming and in historical",
      "mode over the same topic, and verify that the views agree. Needs 'kb local up' first."
    },
    mixinStandardHelpOptions = true)
final class DemoCommand implements Callable<Integer> {
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

  @Override
  public Integer call() {
    String id = LocalDateTime.now().format(DateTimeFormatter.ofPattern("MMddHHmmss"));
    String topic = "demo-" + id;
    String stream = "stream_" + id;
    String batch = "batch_" + id;
    List<String> common = connectionArgs();
    step("1/5 create topic " + topic + " (" + partitions + " partitions)");
    run(
        concat(
            List.of("topics", "create", topic, "--partitions", String.valueOf(partitions)),
            common));
    step("2/5 generate " + count + " records (out-of-order, late, duplicates, malformed)");
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
    step("3/5 streaming job (drained when caught up) into version " + stream);
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
                stream),
            common));
    step("4/5 historical job into version " + batch);
    run(
        concat(
            List.of("run", "--mode", "historical", "--topic", topic, "--version", batch), common));
    step("5/5 verify: streaming and historical views must be identical");
    int differing = 0;
    for (ViewDefinition v : Views.all()) {
      int code =
          Kb.execute(
              concat(List.of("verify", "--view", v.name(), "--a", stream, "--b", batch), common)
                  .toArray(new String[0]));
      if (code != ExitCodes.OK) {
        differing++;
      }
    }
    System.out.println();
    if (differing > 0) {
      System.out.println(
          "kb demo: "
              + differing
              + " view(s) differ between streaming and historical runs (see above)");
      return ExitCodes.DIFFERENT;
    }
    System.out.println("kb demo: the streaming and the historical run gave identical views. Next:");
    System.out.println("  scripts/kb views list");
    System.out.println(
        "  scripts/kb views export --view user_sessions --version "
            + batch
            + " --format csv | head");
    System.out.println(
        "  scripts/kb verify --view activity_per_minute --a " + stream + " --b " + batch);
    System.out.println(
        "  dead letters and late events: topics " + topic + ".dlq and " + topic + ".late");
    System.out.println(
        "  scripts/kb local down   (stops the stack; data stays in " + connections.dataDir() + ")");
    return ExitCodes.OK;
  }

  private List<String> connectionArgs() {
    List<String> args = new ArrayList<>();
    args.add("--bootstrap-servers=" + connections.bootstrapServers());
    args.add("--jdbc-url=" + connections.requireJdbcUrl());
    args.add("--jdbc-user=" + connections.jdbcUser());
    args.add("--jdbc-password=" + connections.jdbcPassword());
    return args;
  }

  private static void step(String what) {
    System.out.println();
    System.out.println("== " + what);
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
