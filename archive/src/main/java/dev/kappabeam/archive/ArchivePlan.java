package dev.kappabeam.archive;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one archive run copies: per partition, from where the manifest's ranges end (or Kafka's log
 * start, if retention deleted the records after that) to the end offset at launch, cut into files
 * at multiples of {@code fileRecords} offsets, so that runs that start or stop anywhere name the
 * same offsets by the same files. Offsets that retention deleted before they were archived are a
 * gap: said in {@link #warnings()}, never filled.
 */
public record ArchivePlan(String topic, List<Chunk> chunks, List<String> warnings)
    implements Serializable {

  /** One file to write: the offsets {@code [from, to)} of a partition. */
  public record Chunk(int partition, long from, long to) implements Serializable {
    public String fileName() {
      return ArchiveLayout.fileName(partition, from, to);
    }
  }

  /** Default offsets per file. */
  public static final long DEFAULT_FILE_RECORDS = 1_000_000;

  /**
   * @param logStart each partition's first offset still in Kafka
   * @param logEnd each partition's end offset at launch (the next offset to be written)
   */
  public static ArchivePlan of(
      Manifest manifest, Map<Integer, Long> logStart, Map<Integer, Long> logEnd, long fileRecords) {
    if (fileRecords <= 0) {
      throw new IllegalArgumentException("records per file must be positive, got " + fileRecords);
    }
    List<Chunk> chunks = new ArrayList<>();
    List<String> warnings = new ArrayList<>();
    for (Map.Entry<Integer, Long> e : new TreeMap<>(logEnd).entrySet()) {
      int partition = e.getKey();
      long end = e.getValue();
      long archived = manifest.archivedEnd(partition).orElse(0);
      long start = logStart.getOrDefault(partition, 0L);
      if (archived < start) {
        warnings.add(
            String.format(
                "partition %d: offsets [%d, %d) were deleted by Kafka's retention before they were"
                    + " archived; the archive has a gap there",
                partition, archived, start));
      }
      long from = Math.max(archived, start);
      while (from < end) {
        long boundary = (from / fileRecords + 1) * fileRecords;
        long to = Math.min(end, boundary);
        chunks.add(new Chunk(partition, from, to));
        from = to;
      }
    }
    return new ArchivePlan(manifest.topic(), List.copyOf(chunks), List.copyOf(warnings));
  }

  /** Offsets the run copies (records may be fewer: markers, compaction). */
  public long offsets() {
    return chunks.stream().mapToLong(c -> c.to() - c.from()).sum();
  }
}
