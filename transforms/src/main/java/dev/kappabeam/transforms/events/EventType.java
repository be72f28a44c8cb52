package dev.kappabeam.transforms.events;

import java.util.Optional;

/** The event types of the reference workload; the JSON value is the lower-case name. */
public enum EventType {
  VIEW("view"),
  CLICK("click"),
  CART("cart"),
  PURCHASE("purchase");

  private final String json;

  EventType(String json) {
    this.json = json;
  }

  /** The value as it appears in the JSON {@code type} field. */
  public String json() {
    return json;
  }

  /** Parses the exact, case-sensitive JSON value; anything else is empty. */
  public static Optional<EventType> fromJson(String value) {
    for (EventType t : values()) {
      if (t.json.equals(value)) {
        return Optional.of(t);
      }
    }
    return Optional.empty();
  }
}
