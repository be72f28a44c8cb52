package dev.kappabeam.pipelines.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;

class KafkaRangeSourceTest {
  @Test
  void splitsByPartitionAndLargePartitionsBySubRangeCoveringEveryOffsetOnce() {
    KafkaRangeSource<?> source =
        KafkaRangeSource.of(
            KafkaClientConfig.of("b:9092"),
            List.of(
                new PartitionRange("t", 0, 0, 25_000),
                new PartitionRange("t", 1, 10, 10),
                new PartitionRange("t", 2, 5, 700)));
    List<? extends KafkaRangeSource<?>> splits =
        source.split(
            10_000 * KafkaRangeSource.ESTIMATED_RECORD_BYTES, PipelineOptionsFactory.create());
    assertEquals(
        List.of(
            new PartitionRange("t", 0, 0, 10_000),
            new PartitionRange("t", 0, 10_000, 20_000),
            new PartitionRange("t", 0, 20_000, 25_000),
            new PartitionRange("t", 2, 5, 700)),
        splits.stream().flatMap(s -> s.ranges().stream()).toList());
    assertEquals(25_695, splits.stream().mapToLong(KafkaRangeSource::totalRecords).sum());
  }

  @Test
  void rangesAreValidated() {
    assertThrows(IllegalArgumentException.class, () -> new PartitionRange("t", 0, 5, 4));
    assertThrows(IllegalArgumentException.class, () -> new PartitionRange("t", 0, -1, 4));
  }

  @Test
  void startPointsParse() {
    assertThrows(IllegalArgumentException.class, () -> KafkaOffsets.parseStartPoint("yesterday"));
    KafkaOffsets.parseStartPoint("earliest");
    KafkaOffsets.parseStartPoint("2026-11-25T10:00:00Z");
  }
}
