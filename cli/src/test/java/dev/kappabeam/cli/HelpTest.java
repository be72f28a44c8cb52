package dev.kappabeam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code --help} always prints the help, however many required options the command has. */
class HelpTest {
  @Test
  void everyCommandPrintsItsHelpWithoutItsRequiredOptions() {
    List<List<String>> commands = new ArrayList<>();
    collect(new CommandLine(new Kb()), new ArrayList<>(), commands);
    commands.add(List.of("serve"));
    assertTrue(commands.size() > 15, commands.toString());
    List<String> failed = new ArrayList<>();
    for (List<String> command : commands) {
      List<String> args = new ArrayList<>(command);
      args.add("--help");
      Output out = run(args.toArray(new String[0]));
      if (out.code != 0 || !out.out.contains("Usage: kb") || !out.err.isEmpty()) {
        failed.add(args + " exit " + out.code + ": " + out.err.strip());
      }
    }
    assertEquals(List.of(), failed);
  }

  private static void collect(CommandLine cli, List<String> path, List<List<String>> out) {
    for (var e : cli.getSubcommands().entrySet()) {
      if (e.getKey().equals("help")) {
        continue;
      }
      List<String> sub = new ArrayList<>(path);
      sub.add(e.getKey());
      out.add(sub);
      collect(e.getValue(), sub, out);
    }
  }

  private record Output(int code, String out, String err) {}

  private static Output run(String... args) {
    PrintStream stdout = System.out;
    PrintStream stderr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int code = Kb.execute(args);
      return new Output(
          code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(stdout);
      System.setErr(stderr);
    }
  }
}
