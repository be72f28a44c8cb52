package dev.kappabeam.archive;

import static dev.kappabeam.archive.ManifestTest.range;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ArchiveStatusTest {
  @Test
  void archivedRangesJoinAndGapsAreTheOffsetsNeitherHolds() {
    Manifest m =
        Manifest.empty("t").with(List.of(range(0, 0, 100), range(0, 100, 150), range(1, 0, 10)));
    List<ArchiveStatus> s = ArchiveStatus.of(m, Map.of(0, 120L, 1, 30L), Map.of(0, 400L, 1, 70L));
    assertEquals("t\t0\t[0,150)\t2\t150\t120\t400\tnone", s.get(0).line());
    // Partition 1: archived [0, 10), Kafka from 30: offsets 10..29 are lost.
    assertEquals("t\t1\t[0,10)\t1\t10\t30\t70\t[10,30)", s.get(1).line());
  }

  @Test
  void aPartitionNeverArchivedWhoseHeadIsDeletedShowsTheGap() {
    List<ArchiveStatus> s = ArchiveStatus.of(Manifest.empty("t"), Map.of(0, 5L), Map.of(0, 9L));
    assertEquals("t\t0\tnone\t0\t0\t5\t9\t[0,5)", s.get(0).line());
  }
}
