package dev.kappabeam.pipelines.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.util.CoderUtils;
import org.joda.time.Duration;
import org.joda.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * The drained run's source without a broker: partitions dealt to splits by index, and the watermark
 * a reader restored from a checkpoint starts with (the broker-backed reads are in the drained
 * parity and end-to-end tests of every runner).
 */
class KafkaRangeUnboundedSourceTest {
  private static final PipelineOptions OPTIONS = PipelineOptionsFactory.create();
  private static final Duration BOUND = Duration.standardSeconds(10);

  private static KafkaRangeUnboundedSource source(PartitionRange... ranges) {
    return new KafkaRangeUnboundedSource(KafkaClientConfig.of("b:9092"), List.of(ranges), BOUND);
  }

  @Test
  void nonEmptyPartitionsAreDealtToSplitsByIndex() {
    KafkaRangeUnboundedSource s =
        source(
            new PartitionRange("t", 4, 0, 10),
            new PartitionRange("t", 1, 0, 10),
            new PartitionRange("t", 3, 7, 7), // empty: nothing to read
            new PartitionRange("t", 0, 0, 10),
            new PartitionRange("t", 2, 5, 10));
    assertEquals(
        List.of(List.of(0, 2), List.of(1, 4)), partitions(s.split(2, OPTIONS)), "2 subtasks");
    assertEquals(
        List.of(List.of(0), List.of(1), List.of(2), List.of(4)),
        partitions(s.split(8, OPTIONS)),
        "never more splits than partitions to read");
    assertEquals(List.of(List.of(0, 1, 2, 4)), partitions(s.split(1, OPTIONS)));
  }

  @Test
  void nothingToReadIsOneSplitWhoseWatermarkIsAtTheEnd() throws Exception {
    List<KafkaRangeUnboundedSource> splits =
        source(new PartitionRange("t", 0, 3, 3)).split(2, OPTIONS);
    assertEquals(List.of(List.of()), partitions(splits));
    assertEquals(
        BoundedWindow.TIMESTAMP_MAX_VALUE,
        splits.get(0).createReader(OPTIONS, null).getWatermark());
  }

  @Test
  void aRestoredReaderResumesTheWatermarkOfThePartitionsStillToRead() throws Exception {
    KafkaRangeUnboundedSource s =
        source(
            new PartitionRange("t", 0, 0, 100),
            new PartitionRange("t", 1, 0, 100),
            new PartitionRange("t", 2, 0, 100));
    KafkaRangeUnboundedSource.Checkpoint saved =
        new KafkaRangeUnboundedSource.Checkpoint(
            Map.of(
                "t/0", new long[] {40, 50_000}, // newest event time read so far: 50 s
                "t/1", new long[] {100, 90_000}, // read to its end: no longer holds the watermark
                "t/2", new long[] {60, 70_000}));
    KafkaRangeUnboundedSource.Checkpoint restored =
        CoderUtils.clone(s.getCheckpointMarkCoder(), saved);
    assertEquals(new Instant(40_000), s.createReader(OPTIONS, restored).getWatermark());
    assertEquals(
        BoundedWindow.TIMESTAMP_MIN_VALUE,
        s.createReader(OPTIONS, null).getWatermark(),
        "nothing read yet");
    KafkaRangeUnboundedSource.Checkpoint allRead =
        new KafkaRangeUnboundedSource.Checkpoint(
            Map.of(
                "t/0", new long[] {100, 1},
                "t/1", new long[] {100, 1},
                "t/2", new long[] {100, 1}));
    assertEquals(
        BoundedWindow.TIMESTAMP_MAX_VALUE, s.createReader(OPTIONS, allRead).getWatermark());
  }

  private static List<List<Integer>> partitions(List<KafkaRangeUnboundedSource> splits) {
    return splits.stream()
        .map(s -> s.ranges().stream().map(PartitionRange::partition).toList())
        .toList();
  }
}
