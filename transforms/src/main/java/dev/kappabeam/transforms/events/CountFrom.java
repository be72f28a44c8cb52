package dev.kappabeam.transforms.events;

import java.io.Serializable;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Where counting starts in each source partition. Records before these offsets were already counted
 * by an earlier run (the Lambda batch up to its cutoff); a run that reads them anyway does so only
 * to prime its de-duplication, so that a re-sent copy after the cutoff of an event before it is
 * recognised as a duplicate (see {@link DeduplicateEvents#primed()}). Partitions not listed count
 * every record.
 *
 * <pre>{@code
 * CountFrom cutoff = CountFrom.of("events", Map.of(0, 1200L, 1, 980L));
 * boolean counted = cutoff.counts(record); // record.offset() >= its partition's cutoff
 * }</pre>
 */
public final class CountFrom implements Serializable {
  private final String topic;
  private final Map<Integer, Long> offsets;
  private final long primerNewest;

  private CountFrom(String topic, Map<Integer, Long> offsets, long primerNewest) {
    this.topic = topic;
    this.offsets = offsets;
    this.primerNewest = primerNewest;
  }

  /** Counting starts at {@code offsets} (partition → first counted offset) of {@code topic}. */
  public static CountFrom of(String topic, Map<Integer, Long> offsets) {
    Objects.requireNonNull(topic, "topic");
    for (Map.Entry<Integer, Long> e : offsets.entrySet()) {
      if (e.getKey() < 0 || e.getValue() < 0) {
        throw new IllegalArgumentException(
            "partitions and offsets must not be negative, got " + e.getKey() + ":" + e.getValue());
      }
    }
    return new CountFrom(topic, new TreeMap<>(offsets), Long.MAX_VALUE);
  }

  /**
   * The newest event time among the records before the cutoff. Counted events up to it wait for the
   * watermark so that their primer copies are seen first (see {@link DeduplicateEvents#primed});
   * without it every counted event waits.
   */
  public CountFrom withPrimerNewest(org.joda.time.Instant newest) {
    return new CountFrom(topic, offsets, newest.getMillis());
  }

  /** See {@link #withPrimerNewest}; the end of time when not given. */
  public org.joda.time.Instant primerNewest() {
    return primerNewest == Long.MAX_VALUE
        ? org.apache.beam.sdk.transforms.windowing.BoundedWindow.TIMESTAMP_MAX_VALUE
        : new org.joda.time.Instant(primerNewest);
  }

  /** True when {@code r} is at or after its partition's first counted offset. */
  public boolean counts(SourceRecord r) {
    if (!topic.equals(r.topic())) {
      return true;
    }
    Long from = offsets.get(r.partition());
    return from == null || r.offset() >= from;
  }

  public String topic() {
    return topic;
  }

  /** Partition → first counted offset, in partition order. */
  public Map<Integer, Long> offsets() {
    return java.util.Collections.unmodifiableMap(offsets);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CountFrom
        && topic.equals(((CountFrom) o).topic)
        && offsets.equals(((CountFrom) o).offsets)
        && primerNewest == ((CountFrom) o).primerNewest;
  }

  @Override
  public int hashCode() {
    return Objects.hash(topic, offsets, primerNewest);
  }

  @Override
  public String toString() {
    return topic + " from " + offsets;
  }
}
