package dev.kappabeam.transforms.events;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * How the records of a topic become events: the one piece of kappa-beam that knows what an event
 * is. Parsing, de-duplication, the late split, the views, the dead-letter and late outputs all work
 * through a format, so a team's own events (orders in Avro, say) run through the same machinery as
 * the reference workload ({@link ReferenceFormat}).
 *
 * <p>A format must be deterministic: the same bytes give the same event or the same rejection on
 * every worker, in every mode and on every runner (the views depend on it). {@link #parse} must not
 * throw for any input (a thrown exception is caught and the record dead-lettered as {@code
 * format_error}, but that is a bug in the format). Events must be immutable.
 *
 * <pre>{@code
 * public final class OrderFormat implements EventFormat<Order> {
 *   public String name() { return "orders-avro"; }
 *   public Coder<Order> coder() { return OrderCoder.of(); }
 *   public Parsed<Order> parse(byte[] value) { ... Parsed.ok(order) or Parsed.rejected(...) }
 *   public String id(Order o) { return o.orderId() + "/" + o.status(); }
 *   public long eventTimeMillis(Order o) { return o.ts(); }
 *   public byte[] toBytes(Order o) { ... }
 * }
 * }</pre>
 */
public interface EventFormat<E> extends Serializable {
  /** Longest id, in UTF-8 bytes (it is a state key and a sink's index entry). */
  int MAX_ID_BYTES = 256;

  /** Names the format in messages and in the registry: lower-case, digits, '-' or '_'. */
  String name();

  /**
   * A deterministic coder of events: equal events encode to equal bytes (the streaming
   * de-duplication and the views keep events in state and shuffle them).
   */
  Coder<E> coder();

  /**
   * One record value to an event or a rejection. Thread-safe; throws nothing but {@link
   * Unavailable}. A {@code null} value is a Kafka tombstone.
   */
  Parsed<E> parse(byte @Nullable [] value);

  /**
   * A parser for one thread at a time, which may keep buffers between records; by default {@link
   * #parse}.
   */
  default Reader<E> reader() {
    return this::parse;
  }

  /** See {@link #reader()}. */
  interface Reader<E> {
    Parsed<E> parse(byte @Nullable [] value);
  }

  /**
   * The id that de-duplication keys on: copies of one event (a producer's retry, a re-sent batch)
   * share it and are counted once. Non-blank, at most {@value #MAX_ID_BYTES} bytes in UTF-8 (a
   * longer or blank id is dead-lettered).
   */
  String id(E event);

  /**
   * The event time, UTC epoch milliseconds, from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z
   * (outside that the record is dead-lettered as {@code invalid_timestamp}).
   */
  long eventTimeMillis(E event);

  /**
   * The event as a record value that {@link #parse} reads back to an equal event: an event later
   * than the allowed lateness goes to the late topic in this form.
   */
  byte[] toBytes(E event);

  /** The key of the event's record on the late topic; by default its id in UTF-8. */
  default byte @Nullable [] lateKey(E event) {
    return id(event).getBytes(StandardCharsets.UTF_8);
  }

  /**
   * A hash of the event's whole content, the same in every JVM: copies of an id whose hashes differ
   * are counted as {@code duplicates_conflicting}. By default a hash of the coder's bytes.
   */
  default int contentHash(E event) {
    return Arrays.hashCode(FormatChecks.encode(coder(), event));
  }

  /** Whether two events have the same content; by default equal coder bytes. */
  default boolean sameContent(E a, E b) {
    return Arrays.equals(FormatChecks.encode(coder(), a), FormatChecks.encode(coder(), b));
  }

  /**
   * A total order on content, to choose deterministically between copies of an id with the same
   * event time on bounded input; by default the coder's bytes, unsigned.
   */
  default int compareContent(E a, E b) {
    return Arrays.compareUnsigned(FormatChecks.encode(coder(), a), FormatChecks.encode(coder(), b));
  }

  /**
   * Thrown by {@link #parse} when a service the format needs (a schema registry) does not answer:
   * the record is not at fault, so it is not dead-lettered; the step fails and the runner retries
   * it (or the run stops, saying why). Any other exception from a format is a bug in the format and
   * dead-letters the record as {@code format_error}.
   */
  class Unavailable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public Unavailable(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * Which events reach the views, for a run's {@code excludedTypes} parameter (names of event types
   * left out). A format without event types accepts every event and refuses a non-empty list.
   *
   * @return null to accept every event
   */
  default @Nullable SerializableFunction<E, Boolean> accepting(java.util.List<String> excluded) {
    if (!excluded.isEmpty()) {
      throw new IllegalArgumentException(
          "event format " + name() + " has no event types to exclude (got " + excluded + ")");
    }
    return null;
  }
}
