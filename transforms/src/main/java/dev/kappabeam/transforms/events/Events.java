package dev.kappabeam.transforms.events;

/** Static factories for the event composites. */
public final class Events {
  private Events() {}

  /** Raw records of the reference workload to events and dead letters. */
  public static ParseEvents<Event> parse() {
    return parse(ReferenceFormat.of());
  }

  /** Raw records to events of {@code format} and dead letters. */
  public static <E> ParseEvents<E> parse(EventFormat<E> format) {
    return new ParseEvents<>(format);
  }

  /** De-duplication of reference events by event_id. */
  public static DeduplicateEvents<Event> deduplicate() {
    return deduplicate(ReferenceFormat.of());
  }

  /** De-duplication by the format's id: exact when bounded, within a horizon when unbounded. */
  public static <E> DeduplicateEvents<E> deduplicate(EventFormat<E> format) {
    return new DeduplicateEvents<>(format, DeduplicateEvents.DEFAULT_HORIZON);
  }
}
