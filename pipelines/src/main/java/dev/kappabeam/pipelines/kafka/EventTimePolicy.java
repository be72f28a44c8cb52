package dev.kappabeam.pipelines.kafka;

import dev.kappabeam.transforms.events.EventFormat;
import java.util.Optional;
import org.apache.beam.sdk.io.kafka.KafkaRecord;
import org.apache.beam.sdk.io.kafka.TimestampPolicy;
import org.apache.beam.sdk.io.kafka.TimestampPolicyFactory;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * KafkaIO timestamp policy for the unbounded read: element timestamp = the event's {@code ts};
 * watermark per partition = newest event time seen minus the out-of-orderness bound. A partition
 * with nothing left to read (empty, or caught up) advances to processing time minus the bound, so
 * it never holds back the others; since the watermark of the read is the minimum over partitions,
 * that cannot make another partition's backlog late. Invalid records get the minimum timestamp and
 * do not move the watermark.
 *
 * <p>"Nothing left to read" is KafkaIO's backlog: the end offset of its last successful end-offset
 * fetch minus the next offset to read. While the broker is away, Beam's {@code
 * KafkaUnboundedReader} keeps that end offset and its fetch time (a failed fetch changes neither),
 * and a reader started meanwhile has none (backlog unknown): a partition with unread records holds
 * its watermark for as long as the outage lasts, and a caught-up one stays at its last fetch minus
 * the bound. Only processing time seen at a successful fetch moves an idle partition (checked by
 * {@code BrokerRestartIT}).
 */
public final class EventTimePolicy extends TimestampPolicy<byte[], byte[]> {
  private final EventFormat<?> format;
  private final Duration bound;
  private Instant newest;
  private Instant watermark;

  EventTimePolicy(EventFormat<?> format, Duration bound, Optional<Instant> previousWatermark) {
    this.format = format;
    this.bound = bound;
    this.watermark = previousWatermark.orElse(BoundedWindow.TIMESTAMP_MIN_VALUE);
    this.newest =
        previousWatermark.map(w -> w.plus(bound)).orElse(BoundedWindow.TIMESTAMP_MIN_VALUE);
  }

  /** A factory for KafkaIO: one policy per partition. */
  public static TimestampPolicyFactory<byte[], byte[]> factory(
      EventFormat<?> format, Duration maxOutOfOrderness) {
    return (partition, previousWatermark) ->
        new EventTimePolicy(format, maxOutOfOrderness, previousWatermark);
  }

  @Override
  public Instant getTimestampForRecord(PartitionContext ctx, KafkaRecord<byte[], byte[]> record) {
    Instant ts = EventTimes.of(format, record.getKV().getValue());
    if (ts.isAfter(newest)) {
      newest = ts;
    }
    return ts;
  }

  @Override
  public Instant getWatermark(PartitionContext ctx) {
    Instant candidate = EventTimes.isKnown(newest) ? newest.minus(bound) : watermark;
    if (ctx.getMessageBacklog() == 0) {
      Instant idle = ctx.getBacklogCheckTime().minus(bound);
      if (idle.isAfter(candidate)) {
        candidate = idle;
      }
    }
    if (candidate.isAfter(watermark)) {
      watermark = candidate;
    }
    return watermark;
  }
}
