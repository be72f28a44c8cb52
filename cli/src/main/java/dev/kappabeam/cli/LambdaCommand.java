package dev.kappabeam.cli;

import dev.kappabeam.serving.ExportFormat;
import dev.kappabeam.serving.LambdaRegistry;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.views.ViewDefinition;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.apache.beam.sdk.values.Row;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code kb lambda read|status}: the exact merged Lambda view (batch + speed, merged per key in
 * Java: user sets unioned, sessions joined across the cutoff) and the Lambda registry.
 */
@Command(
    name = "lambda",
    description = "Read the merged Lambda view exactly, and show cutoffs and what readers see.",
    mixinStandardHelpOptions = true,
    subcommands = {LambdaCommand.Read.class, LambdaCommand.Status.class})
final class LambdaCommand {

  @Command(
      name = "read",
      description =
          "The merged view (the live batch + speed tables, merged per key), sorted by key, as CSV"
              + " or JSON lines; the same columns as the view.",
      mixinStandardHelpOptions = true)
  static final class Read implements Runnable {
    @Mixin Connections connections;

    @Option(names = "--view", required = true, description = "View name.")
    String view;

    @Option(names = "--format", defaultValue = "csv", description = "csv | jsonl.")
    String format;

    @Option(names = "--out", description = "Output file (default: standard output).")
    Path out;

    @Override
    public void run() {
      ViewDefinition v = ViewsCommand.view(view);
      ExportFormat f = ExportFormat.parse(format);
      List<Row> rows;
      try (ViewStore store = new ViewStore(LambdaSupport.store(connections));
          LambdaRegistry lambda = new LambdaRegistry(LambdaSupport.store(connections))) {
        rows = lambda.read(store, v);
      }
      try {
        if (out == null) {
          Writer w = new OutputStreamWriter(System.out, StandardCharsets.UTF_8);
          f.write(v, rows, w);
          w.flush();
        } else {
          try (Writer w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
            f.write(v, rows, w);
          }
        }
      } catch (IOException e) {
        throw new CliException(
            ExitCodes.ENVIRONMENT, "cannot write " + out + ": " + e.getMessage(), e);
      }
    }
  }

  @Command(
      name = "status",
      description = "Cutoffs of a view and the (batch, speed) pair readers see.",
      mixinStandardHelpOptions = true)
  static final class Status implements Runnable {
    @Mixin Connections connections;

    @Option(names = "--view", required = true, description = "View name.")
    String view;

    @Override
    public void run() {
      ViewDefinition v = ViewsCommand.view(view);
      try (LambdaRegistry lambda = new LambdaRegistry(LambdaSupport.store(connections))) {
        Optional<LambdaRegistry.Live> live = lambda.live(v.name());
        System.out.println(
            live.map(
                    l ->
                        v.name()
                            + "_lambda reads "
                            + l.batchVersion()
                            + " + "
                            + l.speedVersion()
                            + " since "
                            + l.switchedAt())
                .orElse(v.name() + "_lambda: nothing live yet (kb batch, then kb speed)"));
        System.out.printf("%-6s %-9s %-22s %s%n", "cutoff", "status", "created", "offsets");
        for (LambdaRegistry.Cutoff c : lambda.cutoffs(v.name())) {
          System.out.printf(
              "%-6d %-9s %-22s %s (%,d records)%n",
              c.id(), c.status(), c.createdAt(), c.offsetsText(), c.totalRecords());
        }
      }
    }
  }
}
