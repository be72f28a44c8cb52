package dev.kappabeam.cli;

import dev.kappabeam.lambda.Batch;
import dev.kappabeam.serving.LambdaRegistry;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Unmatched;

/**
 * {@code kb batch}: the Lambda batch layer ({@link Batch}: snapshot a cutoff, build the batch
 * tables up to it) behind flags. Progress goes to stderr; the cutoff ({@code cutoff <id>
 * <partition:offset,...>}) to stdout.
 */
@Command(
    name = "batch",
    description = {
      "Lambda batch layer: snapshot a cutoff and build the batch tables up to it.",
      "Then run kb speed to start the speed layer from the cutoff and switch readers."
    },
    mixinStandardHelpOptions = true)
final class BatchCommand implements Runnable {
  @Mixin Connections connections;
  @Mixin LogicFlags logic;
  @Mixin OutageGrace outageGrace;

  @Option(
      names = {"--view", "--views"},
      required = true,
      description = "View(s), comma-separated (one cutoff and one batch run for all).")
  String views;

  @Option(
      names = "--topic",
      description = "The event-log topic (default: the topic of the view's previous cutoff).")
  String topic;

  @Option(
      names = "--cutoff",
      defaultValue = "now",
      description =
          "now (the end offsets at launch) or an ISO-8601 instant (the first record with a Kafka"
              + " timestamp at or after it, per partition). Default ${DEFAULT-VALUE}.")
  String cutoff;

  @Unmatched List<String> beamArgs = new ArrayList<>();

  @Override
  public void run() {
    Batch batch =
        new Batch(
            connections.store(),
            new FlagJobOptions("batch", beamArgs, connections, outageGrace, logic, () -> true),
            RunCommand.PRINTER);
    Batch.Result r = batch.run(new Batch.Request(LambdaSupport.views(views), topic, cutoff));
    System.out.println("cutoff " + r.cutoffId() + " " + LambdaRegistry.formatOffsets(r.offsets()));
  }
}
