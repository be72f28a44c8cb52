package dev.kappabeam.pipelines.kafka;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A replay's ranges split at the seam between an archive and Kafka: per partition, the offsets
 * below Kafka's first offset come from the archive, the rest from Kafka; no offset from both, none
 * from neither. An archive that does not cover the offsets below the seam (a hole) is refused with
 * the partition and the offsets missing.
 */
public record ArchiveSeam(List<PartitionRange> archive, List<PartitionRange> kafka) {

  /**
   * @param requested each partition's {@code [start, end)} to replay
   * @param kafkaStart each partition's first offset still in Kafka (the seam)
   * @param coverage each partition's archived ranges, sorted and joined ({@link
   *     LogArchive#coverage})
   * @param where the archive, for messages
   */
  public static ArchiveSeam of(
      List<PartitionRange> requested,
      Map<Integer, Long> kafkaStart,
      Map<Integer, List<long[]>> coverage,
      String where) {
    List<PartitionRange> archive = new ArrayList<>();
    List<PartitionRange> kafka = new ArrayList<>();
    for (PartitionRange r : requested) {
      long seam = Math.max(r.start(), kafkaStart.getOrDefault(r.partition(), 0L));
      long archivedTo = Math.min(seam, r.end());
      if (r.start() < archivedTo) {
        List<long[]> archived = coverage.getOrDefault(r.partition(), List.of());
        long covered = coveredFrom(archived, r.start());
        if (covered < archivedTo) {
          long holeEnd = archivedTo;
          for (long[] a : archived) {
            if (a[0] > covered) {
              holeEnd = Math.min(holeEnd, a[0]);
            }
          }
          throw new KafkaSetupException(
              String.format(
                  "cannot replay %s partition %d from offset %d: offsets [%d, %d) are neither in"
                      + " the archive at %s (it holds %s) nor in Kafka (which starts at %d); they"
                      + " were deleted before they were archived",
                  r.topic(),
                  r.partition(),
                  r.start(),
                  covered,
                  holeEnd,
                  where,
                  describe(coverage.getOrDefault(r.partition(), List.of())),
                  kafkaStart.getOrDefault(r.partition(), 0L)));
        }
        archive.add(r.withRange(r.start(), archivedTo));
      }
      if (seam < r.end()) {
        kafka.add(r.withRange(seam, r.end()));
      }
    }
    return new ArchiveSeam(List.copyOf(archive), List.copyOf(kafka));
  }

  /**
   * How far the archive reaches from {@code start} without a hole ({@code start} if not at all).
   */
  private static long coveredFrom(List<long[]> ranges, long start) {
    long at = start;
    for (long[] r : ranges) {
      if (r[0] <= at && at < r[1]) {
        at = r[1];
      }
    }
    return at;
  }

  private static String describe(List<long[]> ranges) {
    if (ranges.isEmpty()) {
      return "nothing of it";
    }
    StringBuilder b = new StringBuilder();
    for (long[] r : ranges) {
      b.append(b.length() == 0 ? "" : " ")
          .append('[')
          .append(r[0])
          .append(", ")
          .append(r[1])
          .append(')');
    }
    return b.toString();
  }
}
