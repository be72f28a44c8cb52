package dev.kappabeam.archive;

import dev.kappabeam.transforms.events.SourceRecord;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.ListCoder;
import org.apache.beam.sdk.io.BoundedSource;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.joda.time.Instant;

/**
 * A bounded read of archived offset ranges: each slice is the part of one archive file inside a
 * replayed range; records leave in batches of up to 500 of one file, in offset order, at the
 * minimum timestamp (the parse step stamps event time), as the Kafka range source emits them.
 * Splits by file. Counter {@code archive_records_read} (namespace kappa-beam) reports progress.
 */
final class ArchiveSource extends BoundedSource<List<SourceRecord>> {
  /** The offsets {@code [from, to)} of one archive file (by its URI) of one partition. */
  record Slice(String file, int partition, long from, long to) implements Serializable {}

  static final int BATCH_RECORDS = 500;
  static final String COUNTER = "archive_records_read";

  private final List<Slice> slices;

  ArchiveSource(List<Slice> slices) {
    this.slices = List.copyOf(slices);
  }

  @Override
  public List<ArchiveSource> split(long desiredBundleSizeBytes, PipelineOptions options) {
    List<ArchiveSource> out = new ArrayList<>();
    for (Slice s : slices) {
      out.add(new ArchiveSource(List.of(s)));
    }
    return out.isEmpty() ? List.of(this) : out;
  }

  @Override
  public long getEstimatedSizeBytes(PipelineOptions options) {
    return slices.stream().mapToLong(s -> s.to() - s.from()).sum() * 200;
  }

  @Override
  public Coder<List<SourceRecord>> getOutputCoder() {
    return ListCoder.of(SourceRecord.Coder.of());
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    builder.add(DisplayData.item("archiveFiles", slices.size()));
  }

  @Override
  public BoundedReader<List<SourceRecord>> createReader(PipelineOptions options) {
    FileSystems.setDefaultPipelineOptions(options);
    return new Reader(this);
  }

  /** Reads the slices one after the other, a file at a time, in batches. */
  static final class Reader extends BoundedReader<List<SourceRecord>> {
    private final ArchiveSource source;
    private final SliceCursor cursor;
    private final Counter read = Metrics.counter("kappa-beam", COUNTER);
    private List<SourceRecord> current;

    Reader(ArchiveSource source) {
      this.source = source;
      this.cursor = new SliceCursor(source.slices);
    }

    @Override
    public boolean start() throws IOException {
      return advance();
    }

    @Override
    public boolean advance() throws IOException {
      List<SourceRecord> next = new ArrayList<>(BATCH_RECORDS);
      for (SourceRecord r = null; next.size() < BATCH_RECORDS && (r = cursor.next()) != null; ) {
        next.add(r);
      }
      if (next.isEmpty()) {
        current = null;
        return false;
      }
      read.inc(next.size());
      current = next;
      return true;
    }

    @Override
    public List<SourceRecord> getCurrent() {
      if (current == null) {
        throw new NoSuchElementException();
      }
      return current;
    }

    @Override
    public Instant getCurrentTimestamp() {
      return BoundedWindow.TIMESTAMP_MIN_VALUE;
    }

    @Override
    public void close() throws IOException {
      cursor.close();
    }

    @Override
    public BoundedSource<List<SourceRecord>> getCurrentSource() {
      return source;
    }
  }
}
