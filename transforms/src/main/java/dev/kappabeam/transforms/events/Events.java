package dev.kappabeam.transforms.events;

/** Static factories for the event composites. */
public final class Events {
  private Events() {}

  /** Raw records to events and dead letters. */
  public static ParseEvents parse() {
    return new ParseEvents();
  }

  /** De-duplication by event_id: exact when bounded, within a horizon when unbounded. */
  public static DeduplicateEvents deduplicate() {
    return new DeduplicateEvents(DeduplicateEvents.DEFAULT_HORIZON);
  }
}
