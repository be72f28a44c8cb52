package dev.kappabeam.pipelines.kafka;

import java.io.Serializable;
import java.util.Objects;
import org.checkerframework.checker.nullness.qual.Nullable;

/** Offsets {@code [start, end)} of one partition of a topic. */
public final class PartitionRange implements Serializable {
  private final String topic;
  private final int partition;
  private final long start;
  private final long end;

  public PartitionRange(String topic, int partition, long start, long end) {
    if (start < 0 || end < start) {
      throw new IllegalArgumentException(
          "invalid offset range [" + start + ", " + end + ") for " + topic + "-" + partition);
    }
    this.topic = topic;
    this.partition = partition;
    this.start = start;
    this.end = end;
  }

  public String topic() {
    return topic;
  }

  public int partition() {
    return partition;
  }

  public long start() {
    return start;
  }

  public long end() {
    return end;
  }

  public long size() {
    return end - start;
  }

  public PartitionRange withRange(long newStart, long newEnd) {
    return new PartitionRange(topic, partition, newStart, newEnd);
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (!(o instanceof PartitionRange)) {
      return false;
    }
    PartitionRange r = (PartitionRange) o;
    return partition == r.partition && start == r.start && end == r.end && topic.equals(r.topic);
  }

  @Override
  public int hashCode() {
    return Objects.hash(topic, partition, start, end);
  }

  @Override
  public String toString() {
    return topic + "-" + partition + "[" + start + "," + end + ")";
  }
}
