package dev.kappabeam.transforms.events;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The reference workload's events: JSON records read by {@link EventParser} into {@link Event}s,
 * de-duplicated by {@code event_id}. An ordinary {@link EventFormat}; the reference views read it.
 */
public final class ReferenceFormat implements EventFormat<Event> {
  private static final long serialVersionUID = 1L;
  private static final ReferenceFormat INSTANCE = new ReferenceFormat();

  /** The format's name in the registry and in messages. */
  public static final String NAME = "reference-json";

  private ReferenceFormat() {}

  public static ReferenceFormat of() {
    return INSTANCE;
  }

  private Object readResolve() {
    return INSTANCE;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Coder<Event> coder() {
    return EventCoder.of();
  }

  @Override
  public Parsed<Event> parse(byte @Nullable [] value) {
    return EventParser.parse(value);
  }

  /**
   * {@link EventParser.Reader}: Jackson buffers of its own rather than a thread-local lookup per
   * record (2% of a historical replay on Flink).
   */
  @Override
  public Reader<Event> reader() {
    EventParser.Reader reader = new EventParser.Reader();
    return reader::parse;
  }

  @Override
  public String id(Event event) {
    return event.eventId();
  }

  @Override
  public long eventTimeMillis(Event event) {
    return event.timestampMillis();
  }

  /** The canonical JSON of the event ({@link EventJson}). */
  @Override
  public byte[] toBytes(Event event) {
    return EventJson.toJson(event).getBytes(StandardCharsets.UTF_8);
  }

  /** Late events are keyed by user, as the reference topic is. */
  @Override
  public byte[] lateKey(Event event) {
    return event.userId().getBytes(StandardCharsets.UTF_8);
  }

  /** {@link Event#hashCode()}: stable across JVMs. */
  @Override
  public int contentHash(Event event) {
    return event.hashCode();
  }

  @Override
  public boolean sameContent(Event a, Event b) {
    return a.equals(b);
  }

  /** By {@link Event#toString()}, as the oracle chooses. */
  @Override
  public int compareContent(Event a, Event b) {
    return a.toString().compareTo(b.toString());
  }

  /**
   * Leaves out the events whose {@code type} is listed (JSON names: view, click, cart, purchase).
   */
  @Override
  public @Nullable SerializableFunction<Event, Boolean> accepting(List<String> excluded) {
    if (excluded.isEmpty()) {
      return null;
    }
    List<EventType> types = new ArrayList<>();
    for (String name : excluded) {
      types.add(
          EventType.fromJson(name)
              .orElseThrow(() -> new IllegalArgumentException("unknown event type " + name)));
    }
    return e -> !types.contains(e.type());
  }
}
