package dev.kappabeam.lambda;

import dev.kappabeam.kappa.JobOptions;
import dev.kappabeam.kappa.VersionRun;
import dev.kappabeam.pipelines.KappaBeamPipeline;
import dev.kappabeam.pipelines.kafka.KafkaOffsets;
import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.pipelines.options.RunMode;
import dev.kappabeam.serving.LambdaRegistry;
import dev.kappabeam.serving.StoreConfig;
import dev.kappabeam.transforms.views.ViewDefinition;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The Lambda batch layer. Snapshots a cutoff (per-partition offsets: the end offsets now, or the
 * first record at or after an instant), records it in the Lambda registry with a new id N, and runs
 * the historical pipeline over [earliest, cutoff) into the batch tables {@code <view>__lambda_b<N>}
 * (rows that merge exactly: activity keeps its user sets). Readers do not see it until {@link
 * Speed} has caught up from the same cutoff and rebased them. {@code kb batch} is this class behind
 * flags.
 *
 * <pre>{@code
 * Batch.Result r = new Batch(store, jobs, listener).run(new Batch.Request(views, topic, "now"));
 * }</pre>
 */
public final class Batch {
  /**
   * What to batch.
   *
   * @param views the views, batched together (one cutoff, one run)
   * @param topic the event-log topic; null takes the topic of the views' previous cutoff
   * @param cutoff {@code now} (the end offsets at launch) or an ISO-8601 instant
   */
  public record Request(List<ViewDefinition> views, @Nullable String topic, String cutoff) {}

  /** A finished batch: its cutoff id, the batch version and the cutoff offsets per partition. */
  public record Result(long cutoffId, String version, Map<Integer, Long> offsets) {}

  private final StoreConfig store;
  private final JobOptions jobs;
  private final VersionRun.Listener out;

  public Batch(StoreConfig store, JobOptions jobs, VersionRun.Listener out) {
    this.store = store;
    this.jobs = jobs;
    this.out = out;
  }

  /**
   * Snapshots the cutoff and builds the batch tables up to it; the cutoff is recorded as done, or
   * as failed when the run fails (which is then thrown).
   */
  public Result run(Request request) {
    List<ViewDefinition> views = request.views();
    KappaBeamOptions o = jobs.build(RunMode.HISTORICAL, false);
    try (LambdaRegistry lambda = new LambdaRegistry(store)) {
      String topic = request.topic() != null ? request.topic() : previousTopic(lambda, views);
      Map<Integer, Long> offsets = new TreeMap<>();
      try (KafkaOffsets kafka = new KafkaOffsets(KappaBeamPipeline.kafkaClients(o))) {
        List<TopicPartition> partitions = kafka.partitions(topic);
        OffsetSpec spec =
            "now".equals(request.cutoff())
                ? OffsetSpec.latest()
                : KafkaOffsets.parseStartPoint(request.cutoff());
        kafka.offsets(partitions, spec).forEach((tp, at) -> offsets.put(tp.partition(), at));
      }
      List<String> names = views.stream().map(ViewDefinition::name).toList();
      long gap = KappaBeamPipeline.duration(o.getSessionGap(), "--session-gap").getMillis();
      long id = lambda.newCutoff(names, topic, offsets, request.cutoff(), gap);
      String version = LambdaRegistry.Cutoff.batchVersion(id);
      out.info(
          String.format(
              "kb: cutoff %d of %s: %s (%,d records before it)",
              id,
              String.join(", ", names),
              LambdaRegistry.formatOffsets(offsets),
              offsets.values().stream().mapToLong(Long::longValue).sum()));
      o.setStopOffsets(LambdaRegistry.formatOffsets(offsets));
      o.setLambdaPartials(true);
      VersionRun.targeting(o, topic, version, String.join(",", names), null);
      long started = System.nanoTime();
      try {
        new VersionRun(new VersionRun.Request(o, "earliest", null, false), out).run();
      } catch (RuntimeException e) {
        for (String n : names) {
          lambda.batchEnded(n, id, LambdaRegistry.FAILED);
        }
        throw e;
      }
      for (String n : names) {
        lambda.batchEnded(n, id, LambdaRegistry.DONE);
      }
      out.info(
          String.format(
              "kb: batch %s done in %.1f s; start the speed layer from it with: kb speed --view %s",
              version, (System.nanoTime() - started) / 1e9, String.join(",", names)));
      return new Result(id, version, offsets);
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
