package dev.kappabeam.archive;

import dev.kappabeam.pipelines.kafka.LogArchive;
import dev.kappabeam.transforms.events.SourceRecord;
import java.io.IOException;
import java.util.Iterator;
import java.util.List;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.parquet.hadoop.ParquetReader;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The records of archive slices, one file open at a time, in slice order: each slice's rows in
 * {@code [from, to)} (a file's rows are in offset order, so the rest of a file past {@code to} is
 * not read).
 */
final class SliceCursor implements LogArchive.Cursor {
  private final Iterator<ArchiveSource.Slice> pending;
  private ArchiveSource.Slice slice;
  private ParquetReader<GenericRecord> file;

  SliceCursor(List<ArchiveSource.Slice> slices) {
    this.pending = List.copyOf(slices).iterator();
  }

  @Override
  public @Nullable SourceRecord next() throws IOException {
    while (true) {
      GenericRecord row = file == null ? null : file.read();
      if (row != null) {
        long offset = (Long) row.get("offset");
        if (offset >= slice.to()) {
          closeFile();
        } else if (offset >= slice.from()) {
          return ArchiveRecords.toSourceRecord(row);
        }
        continue;
      }
      closeFile();
      if (!pending.hasNext()) {
        return null;
      }
      slice = pending.next();
      file = ArchiveFiles.reader(FileSystems.matchNewResource(slice.file(), false));
    }
  }

  private void closeFile() throws IOException {
    if (file != null) {
      file.close();
      file = null;
    }
  }

  @Override
  public void close() throws IOException {
    closeFile();
  }
}
