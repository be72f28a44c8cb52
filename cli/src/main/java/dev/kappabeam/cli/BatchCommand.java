package dev.kappabeam.cli;

import dev.kappabeam.kappa.JobOptions;
import dev.kappabeam.lambda.Batch;
import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.pipelines.options.RunMode;
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

  @Option(
      names = "--archive",
      paramLabel = "URI",
      description =
          "Read the offsets Kafka's retention deleted from this archive (kb archive), Kafka from"
              + " its first offset on.")
  String archive;

  @Unmatched List<String> beamArgs = new ArrayList<>();

  @Override
  public void run() {
    FlagJobOptions flags =
        new FlagJobOptions("batch", beamArgs, connections, outageGrace, logic, () -> true);
    JobOptions jobs =
        new JobOptions() {
          @Override
          public KappaBeamOptions build(RunMode mode, boolean drainWhenCaughtUp) {
            KappaBeamOptions o = flags.build(mode, drainWhenCaughtUp);
            o.setArchive(archive);
            return o;
          }

          @Override
          public boolean logicGiven() {
            return flags.logicGiven();
          }
        };
    Batch batch = new Batch(connections.store(), jobs, RunCommand.PRINTER);
    Batch.Result r = batch.run(new Batch.Request(LambdaSupport.views(views), topic, cutoff));
    System.out.println("cutoff " + r.cutoffId() + " " + LambdaRegistry.formatOffsets(r.offsets()));
  }
}
