package dev.kappabeam.transforms.events;

import java.time.Instant;

/** JSON text for events and strings: the reference workload's field names, ts in ISO-8601 UTC. */
public final class EventJson {
  private EventJson() {}

  /** Canonical JSON of an event; {@link EventParser} reads it back to an equal event. */
  public static String toJson(Event e) {
    StringBuilder b = new StringBuilder(160);
    b.append("{\"event_id\":").append(quote(e.eventId()));
    b.append(",\"user_id\":").append(quote(e.userId()));
    b.append(",\"type\":").append(quote(e.type().json()));
    if (e.item() != null) {
      b.append(",\"item\":").append(quote(e.item()));
    }
    if (e.amountCents() != null) {
      b.append(",\"amount_cents\":").append(e.amountCents());
    }
    b.append(",\"ts\":").append(quote(Instant.ofEpochMilli(e.timestampMillis()).toString()));
    return b.append('}').toString();
  }

  /** A JSON string literal; non-ASCII characters are written as themselves. */
  public static String quote(String s) {
    StringBuilder b = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"':
          b.append("\\\"");
          break;
        case '\\':
          b.append("\\\\");
          break;
        case '\n':
          b.append("\\n");
          break;
        case '\r':
          b.append("\\r");
          break;
        case '\t':
          b.append("\\t");
          break;
        default:
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
      }
    }
    return b.append('"').toString();
  }
}
