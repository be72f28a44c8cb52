package dev.kappabeam.cli;

import dev.kappabeam.lambda.Speed;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Unmatched;

/**
 * {@code kb speed}: the Lambda speed layer ({@link Speed}: stream from the newest batch's cutoff,
 * rebase readers onto it once caught up) behind flags. Progress goes to stderr.
 */
@Command(
    name = "speed",
    description = {
      "Lambda speed layer: stream from the newest batch cutoff, then switch readers to it.",
      "With --drain-when-caught-up it stops once caught up (scripted runs and tests)."
    },
    mixinStandardHelpOptions = true)
final class SpeedCommand implements Runnable {
  @Mixin Connections connections;
  @Mixin LogicFlags logic;
  @Mixin OutageGrace outageGrace;

  @Option(
      names = {"--view", "--views"},
      required = true,
      description = "View(s), comma-separated, built by the same kb batch.")
  String views;

  @Option(
      names = "--drain-when-caught-up",
      description = "Read up to the end offsets at launch, write, commit, rebase and stop.")
  boolean drain;

  @Option(
      names = "--caught-up-lag",
      defaultValue = "0",
      description =
          "Caught up when at most this many records of the log are unread (default"
              + " ${DEFAULT-VALUE}).")
  long caughtUpLag;

  @Option(
      names = "--caught-up-for",
      defaultValue = "PT10S",
      description =
          "... continuously for this long, with the speed tables settled (default"
              + " ${DEFAULT-VALUE}).")
  String caughtUpFor;

  @Unmatched List<String> beamArgs = new ArrayList<>();

  @Override
  public void run() {
    Speed speed =
        new Speed(
            outageGrace.apply(connections.store()),
            new FlagJobOptions("speed", beamArgs, connections, outageGrace, logic, () -> true),
            RunCommand.PRINTER);
    speed.run(
        new Speed.Request(
            LambdaSupport.views(views),
            drain,
            caughtUpLag,
            RegistryCommands.duration(caughtUpFor, "--caught-up-for")));
  }
}
