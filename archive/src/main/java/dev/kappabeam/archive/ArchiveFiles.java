package dev.kappabeam.archive;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.io.DelegatingSeekableInputStream;
import org.apache.parquet.io.InputFile;
import org.apache.parquet.io.SeekableInputStream;

/** Reads archive files through Beam's file systems (a folder, S3 or GCS alike). */
public final class ArchiveFiles {
  private ArchiveFiles() {}

  /** A reader of one archive file's rows, in offset order (read as they are asked for). */
  public static ParquetReader<GenericRecord> reader(ResourceId file) throws IOException {
    return AvroParquetReader.<GenericRecord>builder(new BeamInputFile(file)).build();
  }

  /** Every row of one archive file, in offset order. */
  public static List<GenericRecord> read(ResourceId file) throws IOException {
    List<GenericRecord> rows = new ArrayList<>();
    try (ParquetReader<GenericRecord> reader = reader(file)) {
      for (GenericRecord r = reader.read(); r != null; r = reader.read()) {
        rows.add(r);
      }
    }
    return rows;
  }

  /** Every row the manifest names for a partition, in offset order. */
  public static List<GenericRecord> read(ArchiveLayout layout, Manifest manifest, int partition)
      throws IOException {
    List<GenericRecord> rows = new ArrayList<>();
    for (Manifest.Range r : manifest.ranges(partition)) {
      rows.addAll(read(layout.file(manifest.topic(), r.file())));
    }
    return rows;
  }

  /** A Parquet input file over a Beam file system's seekable channel. */
  static final class BeamInputFile implements InputFile {
    private final ResourceId file;

    BeamInputFile(ResourceId file) {
      this.file = file;
    }

    @Override
    public long getLength() throws IOException {
      return FileSystems.matchSingleFileSpec(file.toString()).sizeBytes();
    }

    @Override
    public SeekableInputStream newStream() throws IOException {
      SeekableByteChannel channel = (SeekableByteChannel) FileSystems.open(file);
      InputStream in = Channels.newInputStream(channel);
      return new DelegatingSeekableInputStream(in) {
        @Override
        public long getPos() throws IOException {
          return channel.position();
        }

        @Override
        public void seek(long newPos) throws IOException {
          channel.position(newPos);
        }

        @Override
        public int read(ByteBuffer buf) throws IOException {
          return channel.read(buf);
        }
      };
    }
  }
}
