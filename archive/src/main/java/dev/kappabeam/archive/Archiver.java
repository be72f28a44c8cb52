package dev.kappabeam.archive;

import dev.kappabeam.pipelines.kafka.KafkaClientConfig;
import dev.kappabeam.pipelines.kafka.KafkaRangeSource;
import dev.kappabeam.pipelines.kafka.PartitionRange;
import java.io.IOException;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.apache.beam.sdk.io.BoundedSource;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.ResolveOptions.StandardResolveOptions;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.apache.beam.sdk.io.parquet.ParquetIO;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.values.PCollection;

/**
 * The archive run as a Beam pipeline, on any runner: each planned file is one element; a worker
 * reads the file's offsets from Kafka (the historical source's range reader), writes them as
 * Parquet under a temporary name and renames it to its final name; once every file of the run is in
 * place, one step adds them to the manifest ({@link Manifest#write}: temporary name, rename). A
 * crash at any point leaves the manifest naming complete files only; the next run plans from the
 * manifest and writes the missing files again.
 *
 * <p>Counter {@code archived_records} (namespace kappa-beam) counts the records written.
 */
public final class Archiver {
  private Archiver() {}

  /** Metric namespace and counter of records written. */
  public static final String NAMESPACE = "kappa-beam";

  public static final String ARCHIVED = "archived_records";

  /** Adds the run of {@code plan} to {@code pipeline}: files written, then the manifest. */
  public static PCollection<Integer> addTo(
      Pipeline pipeline, KafkaClientConfig kafka, ArchiveLayout layout, ArchivePlan plan) {
    return pipeline
        .apply(
            "PlannedFiles",
            Create.of(plan.chunks()).withCoder(SerializableCoder.of(ArchivePlan.Chunk.class)))
        .apply("SpreadFiles", Reshuffle.viaRandomKey())
        .apply("WriteFiles", ParDo.of(new WriteFileFn(kafka, layout, plan.topic())))
        .setCoder(SerializableCoder.of(Manifest.Range.class))
        .apply("AllFiles", Combine.globally(new AllRanges()))
        .apply("CommitManifest", ParDo.of(new CommitFn(layout, plan.topic())));
  }

  /** Reads one planned file's offsets from Kafka and writes them as a Parquet file. */
  static final class WriteFileFn extends DoFn<ArchivePlan.Chunk, Manifest.Range> {
    private final KafkaClientConfig kafka;
    private final ArchiveLayout layout;
    private final String topic;
    private final Counter archived = Metrics.counter(NAMESPACE, ARCHIVED);

    WriteFileFn(KafkaClientConfig kafka, ArchiveLayout layout, String topic) {
      this.kafka = kafka;
      this.layout = layout;
      this.topic = topic;
    }

    @ProcessElement
    public void process(@Element ArchivePlan.Chunk chunk, OutputReceiver<Manifest.Range> out)
        throws IOException {
      out.output(write(kafka, layout, topic, chunk, archived));
    }
  }

  /** Writes one file: temporary name, every record of the range, rename to the final name. */
  static Manifest.Range write(
      KafkaClientConfig kafka,
      ArchiveLayout layout,
      String topic,
      ArchivePlan.Chunk chunk,
      Counter archived)
      throws IOException {
    String name = chunk.fileName();
    ResourceId target = layout.file(topic, name);
    ResourceId temp =
        target
            .getCurrentDirectory()
            .resolve(
                "." + target.getFilename() + "-" + UUID.randomUUID() + ".tmp",
                StandardResolveOptions.RESOLVE_FILE);
    KafkaRangeSource<GenericRecord> source =
        KafkaRangeSource.of(
            kafka,
            List.of(new PartitionRange(topic, chunk.partition(), chunk.from(), chunk.to())),
            ArchiveRecords::of,
            AvroCoder.of(ArchiveRecords.SCHEMA));
    long records = 0;
    ParquetIO.Sink sink = ParquetIO.sink(ArchiveRecords.SCHEMA);
    try (BoundedSource.BoundedReader<List<GenericRecord>> reader = source.reader();
        WritableByteChannel channel = FileSystems.create(temp, "application/octet-stream")) {
      sink.open(channel);
      for (boolean more = reader.start(); more; more = reader.advance()) {
        for (GenericRecord r : reader.getCurrent()) {
          sink.write(r);
          records++;
        }
      }
      sink.flush();
    }
    FileSystems.rename(List.of(temp), List.of(target));
    archived.inc(records);
    return new Manifest.Range(chunk.partition(), chunk.from(), chunk.to(), records, name);
  }

  /** Every file of the run in one list (one element, once all files are written). */
  static final class AllRanges
      extends Combine.CombineFn<Manifest.Range, ArrayList<Manifest.Range>, List<Manifest.Range>> {
    @Override
    public ArrayList<Manifest.Range> createAccumulator() {
      return new ArrayList<>();
    }

    @Override
    public ArrayList<Manifest.Range> addInput(ArrayList<Manifest.Range> acc, Manifest.Range range) {
      acc.add(range);
      return acc;
    }

    @Override
    public ArrayList<Manifest.Range> mergeAccumulators(
        Iterable<ArrayList<Manifest.Range>> accumulators) {
      ArrayList<Manifest.Range> out = new ArrayList<>();
      accumulators.forEach(out::addAll);
      return out;
    }

    @Override
    public List<Manifest.Range> extractOutput(ArrayList<Manifest.Range> acc) {
      return acc;
    }
  }

  /** Once every file is written: the manifest with them, rewritten whole. */
  static final class CommitFn extends DoFn<List<Manifest.Range>, Integer> {
    private final ArchiveLayout layout;
    private final String topic;

    CommitFn(ArchiveLayout layout, String topic) {
      this.layout = layout;
      this.topic = topic;
    }

    @ProcessElement
    public void process(@Element List<Manifest.Range> written, OutputReceiver<Integer> out)
        throws IOException {
      if (written.isEmpty()) {
        out.output(0);
        return;
      }
      Manifest.read(layout, topic).with(new ArrayList<>(written)).write(layout);
      out.output(written.size());
    }
  }
}
