package dev.kappabeam.archive;

import dev.kappabeam.pipelines.kafka.KafkaSources;
import dev.kappabeam.pipelines.kafka.LogArchive;
import dev.kappabeam.pipelines.kafka.PartitionRange;
import dev.kappabeam.transforms.events.SourceRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.Read;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;

/**
 * An archive as the pipelines read it ({@link LogArchive}, found through {@link
 * java.util.ServiceLoader}): its coverage from the manifest, and a bounded read of offset ranges
 * from the files the manifest names.
 */
public final class ArchiveLog implements LogArchive {
  /** The {@link LogArchive.Provider} registered in META-INF/services. */
  public static final class Provider implements LogArchive.Provider {
    @Override
    public LogArchive open(String uri, PipelineOptions options) {
      FileSystems.setDefaultPipelineOptions(options);
      return new ArchiveLog(ArchiveLayout.at(uri));
    }
  }

  private final ArchiveLayout layout;

  /** The manifests read when the run was planned: what every worker of the run reads. */
  private final TreeMap<String, Manifest> manifests = new TreeMap<>();

  ArchiveLog(ArchiveLayout layout) {
    this.layout = layout;
  }

  private Manifest manifest(String topic) {
    return manifests.computeIfAbsent(
        topic,
        t -> {
          try {
            return Manifest.read(layout, t);
          } catch (IOException e) {
            throw new UncheckedIOException("cannot read the archive at " + layout, e);
          }
        });
  }

  @Override
  public Cursor open(String topic, int partition, long from, long to, PipelineOptions options) {
    FileSystems.setDefaultPipelineOptions(options);
    return new SliceCursor(slices(topic, partition, from, to));
  }

  /** The parts of the manifest's files of a partition inside {@code [from, to)}, in order. */
  private List<ArchiveSource.Slice> slices(String topic, int partition, long from, long to) {
    List<ArchiveSource.Slice> out = new ArrayList<>();
    for (Manifest.Range file : manifest(topic).ranges(partition)) {
      long a = Math.max(file.from(), from);
      long b = Math.min(file.to(), to);
      if (a < b) {
        out.add(
            new ArchiveSource.Slice(layout.file(topic, file.file()).toString(), partition, a, b));
      }
    }
    return out;
  }

  @Override
  public Map<Integer, List<long[]>> coverage(String topic) {
    Map<Integer, List<long[]>> out = new TreeMap<>();
    manifest(topic)
        .partitions()
        .forEach(
            (p, ranges) ->
                out.put(
                    p,
                    ArchiveStatus.merged(
                        ranges.stream().map(r -> new long[] {r.from(), r.to()}).toList())));
    return out;
  }

  @Override
  public PTransform<PBegin, PCollection<SourceRecord>> read(
      String topic, List<PartitionRange> ranges) {
    List<ArchiveSource.Slice> slices = new ArrayList<>();
    for (PartitionRange r : ranges) {
      slices.addAll(slices(topic, r.partition(), r.start(), r.end()));
    }
    return new PTransform<>() {
      @Override
      public PCollection<SourceRecord> expand(PBegin input) {
        return input
            .apply("ReadArchiveFiles", Read.from(new ArchiveSource(slices)))
            .apply("Unbatch", ParDo.of(new KafkaSources.UnbatchFn()))
            .setCoder(SourceRecord.Coder.of());
      }
    };
  }
}
