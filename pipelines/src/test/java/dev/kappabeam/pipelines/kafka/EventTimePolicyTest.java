package dev.kappabeam.pipelines.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kappabeam.transforms.events.ReferenceFormat;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.apache.beam.sdk.io.kafka.KafkaRecord;
import org.apache.beam.sdk.io.kafka.KafkaTimestampType;
import org.apache.beam.sdk.io.kafka.TimestampPolicy;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.values.KV;
import org.joda.time.Duration;
import org.joda.time.Instant;
import org.junit.jupiter.api.Test;

class EventTimePolicyTest {
  private static final Duration BOUND = Duration.standardSeconds(10);
  private static final Instant T0 = Instant.parse("2026-11-25T10:00:00Z");

  private static KafkaRecord<byte[], byte[]> record(String value) {
    return new KafkaRecord<>(
        "t",
        0,
        0,
        0,
        KafkaTimestampType.CREATE_TIME,
        null,
        KV.of(null, value.getBytes(StandardCharsets.UTF_8)));
  }

  private static String event(Instant ts) {
    return "{\"event_id\":\"e\",\"user_id\":\"u\",\"type\":\"view\",\"ts\":\"" + ts + "\"}";
  }

  /** A partition context with a backlog and a processing time. */
  private static TimestampPolicy.PartitionContext context(long backlog, Instant now) {
    return new TimestampPolicy.PartitionContext() {
      @Override
      public long getMessageBacklog() {
        return backlog;
      }

      @Override
      public Instant getBacklogCheckTime() {
        return now;
      }
    };
  }

  @Test
  void watermarkIsNewestEventTimeMinusBoundAndNeverGoesBack() {
    EventTimePolicy p = new EventTimePolicy(ReferenceFormat.of(), BOUND, Optional.empty());
    TimestampPolicy.PartitionContext busy = context(100, T0.plus(Duration.standardHours(5)));
    assertEquals(BoundedWindow.TIMESTAMP_MIN_VALUE, p.getWatermark(busy));
    assertEquals(
        T0.plus(Duration.standardSeconds(30)),
        p.getTimestampForRecord(busy, record(event(T0.plus(Duration.standardSeconds(30))))));
    assertEquals(T0.plus(Duration.standardSeconds(20)), p.getWatermark(busy));
    // An out-of-order event is stamped with its own time and does not move the watermark back.
    assertEquals(T0, p.getTimestampForRecord(busy, record(event(T0))));
    assertEquals(T0.plus(Duration.standardSeconds(20)), p.getWatermark(busy));
  }

  @Test
  void invalidRecordsGetTheMinimumTimestampAndDoNotMoveTheWatermark() {
    EventTimePolicy p = new EventTimePolicy(ReferenceFormat.of(), BOUND, Optional.empty());
    TimestampPolicy.PartitionContext busy = context(5, T0);
    p.getTimestampForRecord(busy, record(event(T0)));
    assertEquals(
        BoundedWindow.TIMESTAMP_MIN_VALUE, p.getTimestampForRecord(busy, record("{not json")));
    assertEquals(T0.minus(BOUND), p.getWatermark(busy));
  }

  @Test
  void caughtUpPartitionAdvancesToProcessingTimeMinusBound() {
    EventTimePolicy p = new EventTimePolicy(ReferenceFormat.of(), BOUND, Optional.empty());
    Instant now = T0.plus(Duration.standardHours(1));
    p.getTimestampForRecord(context(0, now), record(event(T0)));
    assertEquals(now.minus(BOUND), p.getWatermark(context(0, now)));
  }

  // While the broker is away, Beam 2.62's KafkaUnboundedReader keeps the end offsets and the fetch
  // time of its last successful end-offset fetch (updateLatestOffsets logs and keeps them on an
  // exception) and reads nothing, so the contexts below are what a partition shows during an
  // outage: the same backlog and check time, however long it lasts.

  @Test
  void partitionWithUnreadRecordsHoldsItsWatermarkWhileTheBrokerIsAway() {
    EventTimePolicy p = new EventTimePolicy(ReferenceFormat.of(), BOUND, Optional.empty());
    Instant lastFetch = T0.plus(Duration.standardHours(2)); // a backlog two hours old
    p.getTimestampForRecord(context(900, lastFetch), record(event(T0)));
    assertEquals(T0.minus(BOUND), p.getWatermark(context(900, lastFetch)));
    // Unread records at the last known end offset: neither the frozen fetch time nor a later one
    // (processing time) moves the watermark, so no unread record can become late.
    assertEquals(T0.minus(BOUND), p.getWatermark(context(900, lastFetch)));
    assertEquals(
        T0.minus(BOUND), p.getWatermark(context(900, lastFetch.plus(Duration.standardMinutes(5)))));
  }

  @Test
  void unknownBacklogDoesNotIdleForward() {
    // A reader (re)started while the broker is away has no end offset yet: backlog unknown (-1).
    EventTimePolicy p = new EventTimePolicy(ReferenceFormat.of(), BOUND, Optional.of(T0));
    assertEquals(T0, p.getWatermark(context(-1, T0.plus(Duration.standardHours(2)))));
  }

  @Test
  void caughtUpPartitionIdlesOnlyToItsLastEndOffsetFetch() {
    EventTimePolicy p = new EventTimePolicy(ReferenceFormat.of(), BOUND, Optional.empty());
    Instant lastFetch = T0.plus(Duration.standardMinutes(1));
    p.getTimestampForRecord(context(0, lastFetch), record(event(T0)));
    // Known caught up at lastFetch; during the outage the check time stays there, so does the
    // watermark (a record appended after the fetch cannot have been missed before it).
    assertEquals(lastFetch.minus(BOUND), p.getWatermark(context(0, lastFetch)));
    assertEquals(lastFetch.minus(BOUND), p.getWatermark(context(0, lastFetch)));
    // Back, with records appended meanwhile: held at the newest event read, never moved back.
    assertEquals(lastFetch.minus(BOUND), p.getWatermark(context(40, lastFetch.plus(BOUND))));
  }

  @Test
  void resumesFromThePreviousWatermark() {
    EventTimePolicy p = new EventTimePolicy(ReferenceFormat.of(), BOUND, Optional.of(T0));
    assertEquals(T0, p.getWatermark(context(10, T0)));
  }
}
