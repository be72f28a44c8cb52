package dev.kappabeam.cli;

import dev.kappabeam.pipelines.kafka.KafkaOffsets;
import dev.kappabeam.pipelines.options.RunMode;
import dev.kappabeam.serving.LambdaRegistry;
import dev.kappabeam.transforms.views.ViewDefinition;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Unmatched;

/**
 * {@code kb batch}: the Lambda batch layer. Snapshots a cutoff (per-partition offsets: the end
 * offsets now, or the first record at or after a timestamp), records it in the Lambda registry with
 * a new id N, and runs the historical pipeline over [earliest, cutoff) into the batch tables {@code
 * <view>__lambda_b<N>} (rows that merge exactly: activity keeps its user sets). Readers do not see
 * it until {@code kb speed} has caught up from the same cutoff and rebases.
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
    List<ViewDefinition> selected = LambdaSupport.views(views);
    try (LambdaRegistry lambda = new LambdaRegistry(LambdaSupport.store(connections))) {
      String t = topic != null ? topic : previousTopic(lambda, selected);
      Map<Integer, Long> offsets = new TreeMap<>();
      try (KafkaOffsets kafka = new KafkaOffsets(connections.kafka())) {
        List<TopicPartition> partitions = kafka.partitions(t);
        OffsetSpec spec =
            "now".equals(cutoff) ? OffsetSpec.latest() : KafkaOffsets.parseStartPoint(cutoff);
        kafka.offsets(partitions, spec).forEach((tp, o) -> offsets.put(tp.partition(), o));
      }
      List<String> names = selected.stream().map(ViewDefinition::name).toList();
      long id = lambda.newCutoff(names, t, offsets, cutoff, logic.sessionGapMillis());
      String version = LambdaRegistry.Cutoff.batchVersion(id);
      System.err.printf(
          "kb: cutoff %d of %s: %s (%,d records before it)%n",
          id,
          String.join(", ", names),
          LambdaRegistry.formatOffsets(offsets),
          offsets.values().stream().mapToLong(Long::longValue).sum());
      RunCommand run =
          RunCommand.inner(
              connections,
              outageGrace,
              logic,
              beamArgs,
              RunMode.HISTORICAL,
              t,
              version,
              LambdaSupport.names(selected));
      run.stopOffsets = LambdaRegistry.formatOffsets(offsets);
      run.lambdaPartials = true;
      long started = System.nanoTime();
      try {
        run.run();
      } catch (RuntimeException e) {
        for (String n : names) {
          lambda.batchEnded(n, id, LambdaRegistry.FAILED);
        }
        throw e;
      }
      for (String n : names) {
        lambda.batchEnded(n, id, LambdaRegistry.DONE);
      }
      System.err.printf(
          "kb: batch %s done in %.1f s; start the speed layer from it with: kb speed --view %s%n",
          version, (System.nanoTime() - started) / 1e9, LambdaSupport.names(selected));
      System.out.println("cutoff " + id + " " + LambdaRegistry.formatOffsets(offsets));
    }
  }

  private static String previousTopic(LambdaRegistry lambda, List<ViewDefinition> views) {
    for (ViewDefinition v : views) {
      List<LambdaRegistry.Cutoff> all = lambda.cutoffs(v.name());
      if (!all.isEmpty()) {
        return all.get(all.size() - 1).topic();
      }
    }
    throw new IllegalArgumentException("no previous cutoff of these views: give --topic");
  }
}
