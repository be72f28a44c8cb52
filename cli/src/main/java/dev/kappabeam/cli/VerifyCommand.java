package dev.kappabeam.cli;

import dev.kappabeam.serving.ViewDiff;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.views.ViewDefinition;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code kb verify --view V --a vN --b vM}: prints the differing rows; exit 1 on any difference.
 */
@Command(
    name = "verify",
    description = "Compare two versions of a view row by row; exit 1 if they differ.",
    mixinStandardHelpOptions = true)
final class VerifyCommand implements Callable<Integer> {
  @Mixin Connections connections;

  @Option(names = "--view", required = true, description = "View name.")
  String view;

  @Option(names = "--a", required = true, description = "First version.")
  String a;

  @Option(names = "--b", required = true, description = "Second version.")
  String b;

  @Override
  public Integer call() {
    ViewDefinition v = ViewsCommand.view(view);
    ViewStore store = ViewsCommand.store(connections);
    for (String version : new String[] {a, b}) {
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
    }
    ViewDiff diff = store.diff(v, a, b);
    if (diff.isEmpty()) {
      System.out.println(
          v.name()
              + ": "
              + a
              + " and "
              + b
              + " are identical ("
              + store.readAll(v, a).size()
              + " rows)");
      return ExitCodes.OK;
    }
    System.out.println(diff.format(a, b));
    return ExitCodes.DIFFERENT;
  }
}
