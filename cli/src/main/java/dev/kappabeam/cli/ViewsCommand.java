package dev.kappabeam.cli;

import dev.kappabeam.serving.ExportFormat;
import dev.kappabeam.serving.StoredTable;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.views.ViewCatalog;
import dev.kappabeam.transforms.views.ViewDefinition;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code kb views list|export}. */
@Command(
    name = "views",
    description = "List view versions and export their rows.",
    mixinStandardHelpOptions = true,
    subcommands = {
      ViewsCommand.ListViews.class,
      ViewsCommand.Export.class,
      ViewsCommand.Catalog.class
    })
final class ViewsCommand {

  static ViewStore store(Connections c) {
    return new ViewStore(c.store());
  }

  /** A reference view or a plug-in's, by name. */
  static ViewDefinition view(String name) {
    return ViewCatalog.current().require(name).definition();
  }

  @Command(
      name = "list",
      description = "List the view versions in the serving store.",
      mixinStandardHelpOptions = true)
  static final class ListViews implements Runnable {
    @Mixin Connections connections;

    @Override
    public void run() {
      System.out.println("view\tversion\trows");
      for (StoredTable t : store(connections).listTables()) {
        System.out.println(t.view().name() + "\t" + t.version() + "\t" + t.rows());
      }
    }
  }

  @Command(
      name = "catalog",
      description = {
        "List the views kb can compute: the reference views and those of plug-ins",
        "(--plugin PATH.jar or KB_PLUGINS, on any kb command)."
      },
      mixinStandardHelpOptions = true)
  static final class Catalog implements Runnable {
    @Override
    public void run() {
      ViewCatalog catalog = ViewCatalog.current();
      System.out.println("view\torigin\tkind\tkey_columns\tcolumns");
      for (ViewDefinition v : catalog.definitions()) {
        StringBuilder columns = new StringBuilder();
        for (org.apache.beam.sdk.schemas.Schema.Field f : v.schema().getFields()) {
          columns.append(columns.length() == 0 ? "" : ",");
          columns.append(f.getName()).append(':').append(f.getType().getTypeName());
        }
        System.out.println(
            String.join(
                "\t",
                v.name(),
                ViewCatalog.origin(catalog.require(v.name())),
                v.kind().name().toLowerCase(java.util.Locale.ROOT),
                String.join(",", v.keyColumns()),
                columns));
      }
    }
  }

  @Command(
      name = "export",
      description = "Write a view version's rows, sorted by key, as CSV or JSON lines.")
  static final class Export implements Runnable {
    @Mixin HelpOption help;

    @Mixin Connections connections;

    @Option(names = "--view", required = true, description = "View name.")
    String view;

    @Option(names = "--version", required = true, description = "View version, e.g. v1.")
    String version;

    @Option(
        names = "--format",
        defaultValue = "csv",
        description = "csv | jsonl (default ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "--out", description = "Output file (default: standard output).")
    Path out;

    @Override
    public void run() {
      ViewDefinition v = view(view);
      ExportFormat f = ExportFormat.parse(format);
      ViewStore store = store(connections);
      if (!store.tableExists(v, version)) {
        throw new CliException(
            ExitCodes.ENVIRONMENT,
            "no version "
                + version
                + " of "
                + v.name()
                + "; known versions: "
                + String.join(", ", store.versions(v)));
      }
      try {
        if (out == null) {
          // Flushed, not closed: closing would close System.out for the rest of the process.
          Writer w = new OutputStreamWriter(System.out, StandardCharsets.UTF_8);
          store.export(v, version, f, w);
          w.flush();
        } else {
          try (Writer w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
            store.export(v, version, f, w);
          }
        }
      } catch (IOException e) {
        throw new CliException(
            ExitCodes.ENVIRONMENT, "cannot write " + out + ": " + e.getMessage(), e);
      }
    }
  }
}
