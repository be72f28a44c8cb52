package dev.kappabeam.pipelines.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ArchiveSeamTest {
  private static PartitionRange range(int p, long from, long to) {
    return new PartitionRange("t", p, from, to);
  }

  @Test
  void offsetsBelowKafkasFirstComeFromTheArchiveTheRestFromKafkaEachOnce() {
    ArchiveSeam seam =
        ArchiveSeam.of(
            List.of(range(0, 0, 100), range(1, 0, 40), range(2, 0, 30)),
            Map.of(0, 60L, 1, 0L, 2, 30L),
            Map.of(0, List.of(new long[] {0, 80}), 2, List.of(new long[] {0, 30})),
            "/archive");
    assertEquals(List.of(range(0, 0, 60), range(2, 0, 30)), seam.archive());
    assertEquals(List.of(range(0, 60, 100), range(1, 0, 40)), seam.kafka());
  }

  @Test
  void aHoleBelowKafkasFirstOffsetIsRefusedWithThePartitionAndTheOffsets() {
    KafkaSetupException e =
        assertThrows(
            KafkaSetupException.class,
            () ->
                ArchiveSeam.of(
                    List.of(range(0, 0, 100)),
                    Map.of(0, 60L),
                    Map.of(0, List.of(new long[] {0, 20}, new long[] {30, 60})),
                    "/archive"));
    assertTrue(
        e.getMessage().contains("partition 0 from offset 0: offsets [20, 30) are neither"),
        e.getMessage());
    assertTrue(e.getMessage().contains("it holds [0, 20) [30, 60)"), e.getMessage());
  }
}
