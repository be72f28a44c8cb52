package dev.kappabeam.archive;

import dev.kappabeam.pipelines.kafka.KafkaClientConfig;
import dev.kappabeam.pipelines.kafka.KafkaOffsets;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.io.fs.ResolveOptions.StandardResolveOptions;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;

/**
 * One archive run of a topic, historical: plans from the manifest and Kafka's offsets at launch,
 * runs {@link Archiver} on the options' runner and waits for it; the manifest then names every
 * offset up to those end offsets (but gaps retention made before).
 */
public final class ArchiveRun {
  private ArchiveRun() {}

  /** What a run did: its plan and the manifest after it. */
  public record Result(ArchivePlan plan, Manifest manifest) {}

  /** The offsets Kafka holds for each partition of {@code topic}: first and end. */
  public record LogOffsets(Map<Integer, Long> start, Map<Integer, Long> end) {
    public static LogOffsets of(KafkaClientConfig kafka, String topic) {
      try (KafkaOffsets offsets = new KafkaOffsets(kafka)) {
        List<TopicPartition> partitions = offsets.partitions(topic);
        return new LogOffsets(
            byPartition(offsets.offsets(partitions, OffsetSpec.earliest())),
            byPartition(offsets.offsets(partitions, OffsetSpec.latest())));
      }
    }

    private static Map<Integer, Long> byPartition(Map<TopicPartition, Long> offsets) {
      Map<Integer, Long> out = new TreeMap<>();
      offsets.forEach((tp, o) -> out.put(tp.partition(), o));
      return out;
    }
  }

  /** The topics archived under {@code layout}: the folders that hold a manifest. */
  public static List<String> topics(ArchiveLayout layout) throws IOException {
    String glob =
        layout
            .root()
            .resolve("*", StandardResolveOptions.RESOLVE_DIRECTORY)
            .resolve(ArchiveLayout.MANIFEST, StandardResolveOptions.RESOLVE_FILE)
            .toString();
    MatchResult match = FileSystems.match(glob);
    if (match.status() != MatchResult.Status.OK) {
      return List.of();
    }
    TreeSet<String> out = new TreeSet<>();
    for (MatchResult.Metadata m : match.metadata()) {
      out.add(m.resourceId().getCurrentDirectory().getFilename());
    }
    return List.copyOf(out);
  }

  /**
   * Archives {@code topic} up to its end offsets now.
   *
   * @param out progress lines
   * @throws IllegalStateException when the pipeline does not finish DONE (the manifest is then as
   *     it was, or names the files of the run's completed part: never a missing file)
   */
  public static Result run(
      PipelineOptions options,
      KafkaClientConfig kafka,
      ArchiveLayout layout,
      String topic,
      long fileRecords,
      Consumer<String> out)
      throws IOException {
    FileSystems.setDefaultPipelineOptions(options);
    Manifest before = Manifest.read(layout, topic);
    LogOffsets log = LogOffsets.of(kafka, topic);
    ArchivePlan plan = ArchivePlan.of(before, log.start(), log.end(), fileRecords);
    plan.warnings().forEach(w -> out.accept("kb: warning: " + w));
    if (plan.chunks().isEmpty()) {
      out.accept(
          "kb: archive of "
              + topic
              + " at "
              + layout
              + " is up to date (end offsets "
              + log.end()
              + ")");
      return new Result(plan, before);
    }
    out.accept(
        String.format(
            "kb: archiving %,d offsets of %s in %d files to %s",
            plan.offsets(), topic, plan.chunks().size(), layout));
    Pipeline p = Pipeline.create(options);
    Archiver.addTo(p, kafka, layout, plan);
    PipelineResult.State state = p.run().waitUntilFinish();
    if (state != PipelineResult.State.DONE) {
      throw new IllegalStateException(
          "the archive pipeline ended in state " + state + "; run kb archive again to finish");
    }
    Manifest after = Manifest.read(layout, topic);
    return new Result(plan, after);
  }
}
