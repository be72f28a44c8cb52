package dev.kappabeam.pipelines.kafka;

import org.apache.beam.sdk.transforms.splittabledofn.TimestampObservingWatermarkEstimator;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * Watermark estimator for the splittable Kafka read of a drained streaming run: newest event time
 * observed on the partition minus the out-of-orderness bound. The state is the newest event time,
 * so a checkpointed restriction resumes with the same watermark. Records stamped with the minimum
 * timestamp (invalid records) do not move it.
 */
final class BoundedOutOfOrdernessEstimator
    implements TimestampObservingWatermarkEstimator<Instant> {
  private final Duration bound;
  private Instant newest;

  BoundedOutOfOrdernessEstimator(Instant newest, Duration bound) {
    this.newest = newest;
    this.bound = bound;
  }

  @Override
  public void observeTimestamp(Instant timestamp) {
    if (timestamp.isAfter(newest)) {
      newest = timestamp;
    }
  }

  @Override
  public Instant currentWatermark() {
    return EventTimes.isKnown(newest) ? newest.minus(bound) : BoundedWindow.TIMESTAMP_MIN_VALUE;
  }

  @Override
  public Instant getState() {
    return newest;
  }
}
