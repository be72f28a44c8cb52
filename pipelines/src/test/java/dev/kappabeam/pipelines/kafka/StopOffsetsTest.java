package dev.kappabeam.pipelines.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * {@code --stopOffsets}: explicit per-partition stop offsets of a historical (Lambda batch) run.
 */
class StopOffsetsTest {
  private static final TopicPartition P0 = new TopicPartition("t", 0);
  private static final TopicPartition P1 = new TopicPartition("t", 1);
  private static final List<TopicPartition> PARTITIONS = List.of(P0, P1);
  private static final Map<TopicPartition, Long> END = Map.of(P0, 100L, P1, 0L);

  @Test
  void everyPartitionParsedAndWithinTheLog() {
    assertEquals(Map.of(P0, 40L, P1, 0L), KafkaOffsets.stopOffsets(PARTITIONS, " 1:0, 0:40", END));
    assertEquals(Map.of(P0, 100L, P1, 0L), KafkaOffsets.stopOffsets(PARTITIONS, "0:100,1:0", END));
  }

  @Test
  void missingUnknownRepeatedOrPastTheEndIsRejectedWithWhatToDo() {
    assertTrue(message("0:40").contains("no offset for partition t-1"));
    assertTrue(message("0:40,1:0,2:5").contains("partitions the topic does not have: [2]"));
    assertTrue(message("0:40,0:41,1:0").contains("once per partition"));
    assertTrue(message("0:x,1:0").contains("partition:offset pairs"));
    assertTrue(message("0:101,1:0").contains("outside the log (end offset now 100)"));
    assertTrue(message("0:-1,1:0").contains("outside the log"));
  }

  private static String message(String text) {
    return assertThrows(
            IllegalArgumentException.class, () -> KafkaOffsets.stopOffsets(PARTITIONS, text, END))
        .getMessage();
  }
}
