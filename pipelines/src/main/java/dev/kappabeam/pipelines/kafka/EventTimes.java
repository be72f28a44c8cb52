package dev.kappabeam.pipelines.kafka;

import dev.kappabeam.transforms.events.EventFormat;
import dev.kappabeam.transforms.events.ParseEvents;
import dev.kappabeam.transforms.events.Parsed;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.joda.time.Instant;

/** Event time of a raw record, for sources that stamp records as they read them. */
final class EventTimes {
  private EventTimes() {}

  /**
   * The record's event time, or {@link BoundedWindow#TIMESTAMP_MIN_VALUE} for a record that is not
   * a valid event: it becomes a dead letter, and must neither move the watermark nor be windowed.
   */
  static <E> Instant of(EventFormat<E> format, byte @Nullable [] value) {
    Parsed<E> r = ParseEvents.parseOnce(format, value);
    return r.isValid()
        ? new Instant(format.eventTimeMillis(r.event()))
        : BoundedWindow.TIMESTAMP_MIN_VALUE;
  }

  static boolean isKnown(Instant t) {
    return t.isAfter(BoundedWindow.TIMESTAMP_MIN_VALUE);
  }
}
