package dev.kappabeam.archive;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Per partition of a topic: what the archive holds, what Kafka still holds, and the offsets held by
 * neither (a gap: records deleted by retention before they were archived, lost to every replay).
 */
public record ArchiveStatus(
    String topic,
    int partition,
    List<long[]> archived,
    int files,
    long records,
    long logStart,
    long logEnd,
    List<long[]> gaps) {

  /** The status of every partition Kafka or the manifest knows. */
  public static List<ArchiveStatus> of(
      Manifest manifest, Map<Integer, Long> logStart, Map<Integer, Long> logEnd) {
    TreeSet<Integer> partitions = new TreeSet<>(logEnd.keySet());
    partitions.addAll(manifest.partitions().keySet());
    List<ArchiveStatus> out = new ArrayList<>();
    for (int p : partitions) {
      List<Manifest.Range> ranges = manifest.ranges(p);
      List<long[]> archived =
          merged(ranges.stream().map(r -> new long[] {r.from(), r.to()}).toList());
      long start = logStart.getOrDefault(p, 0L);
      long end = logEnd.getOrDefault(p, 0L);
      List<long[]> covered = new ArrayList<>(archived);
      if (start < end) {
        covered.add(new long[] {start, end});
      }
      covered = merged(covered);
      List<long[]> gaps = new ArrayList<>();
      long at = 0;
      for (long[] c : covered) {
        if (c[0] > at) {
          gaps.add(new long[] {at, c[0]});
        }
        at = Math.max(at, c[1]);
      }
      if (at < end) {
        gaps.add(new long[] {at, end});
      }
      out.add(
          new ArchiveStatus(
              manifest.topic(),
              p,
              archived,
              ranges.size(),
              ranges.stream().mapToLong(Manifest.Range::records).sum(),
              start,
              end,
              gaps));
    }
    return out;
  }

  /** Intervals sorted and joined where they touch or overlap. */
  static List<long[]> merged(List<long[]> intervals) {
    List<long[]> sorted = new ArrayList<>(intervals);
    sorted.sort((a, b) -> Long.compare(a[0], b[0]));
    List<long[]> out = new ArrayList<>();
    for (long[] i : sorted) {
      if (!out.isEmpty() && out.get(out.size() - 1)[1] >= i[0]) {
        long[] last = out.get(out.size() - 1);
        last[1] = Math.max(last[1], i[1]);
      } else {
        out.add(new long[] {i[0], i[1]});
      }
    }
    return out;
  }

  /** Intervals as {@code [a, b) [c, d)}, or {@code none}. */
  public static String describe(List<long[]> intervals) {
    if (intervals.isEmpty()) {
      return "none";
    }
    StringBuilder b = new StringBuilder();
    for (long[] i : intervals) {
      if (b.length() > 0) {
        b.append(' ');
      }
      b.append('[').append(i[0]).append(',').append(i[1]).append(')');
    }
    return b.toString();
  }

  /** The header of {@link #line()}. */
  public static final String HEADER =
      "topic\tpartition\tarchived\tfiles\trecords\tkafka_log_start\tkafka_end\tgaps";

  /** One tab-separated line: see {@link #HEADER}. */
  public String line() {
    return String.join(
        "\t",
        topic,
        String.valueOf(partition),
        describe(archived),
        String.valueOf(files),
        String.valueOf(records),
        String.valueOf(logStart),
        String.valueOf(logEnd),
        describe(gaps));
  }
}
