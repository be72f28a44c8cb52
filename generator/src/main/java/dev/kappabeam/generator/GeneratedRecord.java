package dev.kappabeam.generator;

import dev.kappabeam.transforms.events.ParseError;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * One record of a generated workload: the Kafka key and value bytes, plus what the generator
 * intended, so tests can check the pipeline against the intent.
 *
 * <p>Immutable: the byte accessors return copies. {@link #eventTimeMillis()} is the event time
 * written in {@code ts} for parseable records (a {@link Kind#DUPLICATE} has its original's); for a
 * {@link Kind#MALFORMED} record it is the generator's clock at that position, which suits a Kafka
 * record timestamp but is not in the value.
 */
public final class GeneratedRecord {

  /** What a record is meant to exercise. */
  public enum Kind {
    /** A new event, in event-time order. */
    VALID,
    /** A new event up to the out-of-orderness bound behind the newest event time so far. */
    OUT_OF_ORDER,
    /** A new event beyond the out-of-orderness bound but within the allowed lateness. */
    LATE,
    /** A new event beyond the allowed lateness: a streaming run sends it to the late output. */
    TOO_LATE,
    /**
     * A byte-identical re-send of an earlier {@code VALID}, {@code OUT_OF_ORDER} or {@code LATE}.
     */
    DUPLICATE,
    /** A record the parser rejects; see {@link #malformedKind()}. */
    MALFORMED;

    /** True for the kinds that carry a new, valid event (not a duplicate, not malformed). */
    public boolean isOriginalEvent() {
      return this == VALID || this == OUT_OF_ORDER || this == LATE || this == TOO_LATE;
    }
  }

  private final byte @Nullable [] key;
  private final byte @Nullable [] value;
  private final Kind kind;
  private final @Nullable MalformedKind malformedKind;
  private final long eventTimeMillis;
  private final @Nullable String eventId;

  GeneratedRecord(
      byte @Nullable [] key,
      byte @Nullable [] value,
      Kind kind,
      @Nullable MalformedKind malformedKind,
      long eventTimeMillis,
      @Nullable String eventId) {
    this.key = key;
    this.value = value;
    this.kind = Objects.requireNonNull(kind, "kind");
    this.malformedKind = malformedKind;
    this.eventTimeMillis = eventTimeMillis;
    this.eventId = eventId;
    if ((kind == Kind.MALFORMED) != (malformedKind != null)) {
      throw new IllegalArgumentException(
          "a malformed kind is required for, and only for, MALFORMED");
    }
  }

  /** The record key (the user id in UTF-8), or {@code null}; a copy. */
  public byte @Nullable [] key() {
    return key == null ? null : key.clone();
  }

  /** The record value (the event's JSON in UTF-8 for parseable kinds), or {@code null}; a copy. */
  public byte @Nullable [] value() {
    return value == null ? null : value.clone();
  }

  public Kind kind() {
    return kind;
  }

  /** For {@link Kind#MALFORMED}: how the record is broken; otherwise {@code null}. */
  public @Nullable MalformedKind malformedKind() {
    return malformedKind;
  }

  /** For {@link Kind#MALFORMED}: the error the parser must report; otherwise {@code null}. */
  public @Nullable ParseError expectedError() {
    return malformedKind == null ? null : malformedKind.expectedError();
  }

  /** Event time in epoch milliseconds; see the class comment for malformed records. */
  public long eventTimeMillis() {
    return eventTimeMillis;
  }

  /** The {@code event_id} of a parseable record; {@code null} for a malformed one. */
  public @Nullable String eventId() {
    return eventId;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (!(o instanceof GeneratedRecord)) {
      return false;
    }
    GeneratedRecord r = (GeneratedRecord) o;
    return kind == r.kind
        && malformedKind == r.malformedKind
        && eventTimeMillis == r.eventTimeMillis
        && Objects.equals(eventId, r.eventId)
        && Arrays.equals(key, r.key)
        && Arrays.equals(value, r.value);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        kind,
        malformedKind,
        eventTimeMillis,
        eventId,
        Arrays.hashCode(key),
        Arrays.hashCode(value));
  }

  @Override
  public String toString() {
    return kind
        + (malformedKind == null ? "" : "(" + malformedKind + ")")
        + " "
        + (value == null ? "null" : new String(value, StandardCharsets.UTF_8));
  }
}
