package dev.kappabeam.pipelines.kafka;

import dev.kappabeam.transforms.events.SourceRecord;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;

/**
 * The log's records that Kafka no longer holds, kept elsewhere (module {@code archive/}, found on
 * the class path through {@link ServiceLoader}): what an archive covers, and a bounded read of
 * offset ranges from it as {@link SourceRecord}s, the same records a Kafka read gives.
 */
public interface LogArchive extends java.io.Serializable {
  /** Records of one partition from the archive, in offset order; {@code null} after the last. */
  interface Cursor extends AutoCloseable {
    @org.checkerframework.checker.nullness.qual.Nullable
    SourceRecord next() throws java.io.IOException;

    @Override
    void close() throws java.io.IOException;
  }

  /** Opens the archive at {@code uri} (the {@code --archive} option). */
  interface Provider {
    LogArchive open(String uri, PipelineOptions options);
  }

  /**
   * The archived offset ranges of the topic's partitions, each list sorted and joined where ranges
   * touch: {@code [from, to)} pairs.
   */
  Map<Integer, List<long[]>> coverage(String topic);

  /** A bounded read of these ranges (each inside the coverage). */
  PTransform<PBegin, PCollection<SourceRecord>> read(String topic, List<PartitionRange> ranges);

  /**
   * The archived records of a partition from {@code from} (inclusive) to {@code to} (exclusive),
   * read where it is called (a streaming reader's worker), through the file systems of {@code
   * options}.
   */
  Cursor open(String topic, int partition, long from, long to, PipelineOptions options)
      throws java.io.IOException;

  /** The archive at {@code uri} through the provider on the class path. */
  static LogArchive open(String uri, PipelineOptions options) {
    for (Provider p : ServiceLoader.load(Provider.class)) {
      return p.open(uri, options);
    }
    throw new IllegalArgumentException(
        "--archive needs kappa-beam-archive on the class path (kb has it; the runners' shaded jars"
            + " do not yet)");
  }
}
