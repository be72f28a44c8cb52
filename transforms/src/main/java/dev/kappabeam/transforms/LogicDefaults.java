package dev.kappabeam.transforms;

import org.joda.time.Duration;

/**
 * The defaults of the logic parameters, written once: ISO-8601 text, so that picocli flags and
 * Beam's {@code @Default.String} pipeline options (both need compile-time constants) and the
 * transforms' own {@link Duration} defaults all read the same value.
 */
public final class LogicDefaults {
  private LogicDefaults() {}

  /** Streaming watermark bound: per partition, the newest event time read minus this. */
  public static final String MAX_OUT_OF_ORDERNESS = "PT10S";

  /** Events up to this far behind the watermark still update their window. */
  public static final String ALLOWED_LATENESS = "PT1H";

  /** Streaming de-duplication: an event_id is remembered this long past its first copy. */
  public static final String DEDUP_HORIZON = "PT1H";

  /** The inactivity gap that closes a user session. */
  public static final String SESSION_GAP = "PT30M";

  /** Event types left out of every view: none. */
  public static final String EXCLUDE_TYPES = "";

  /** One of the constants above as a duration (Joda's own parser takes seconds only). */
  public static Duration duration(String iso) {
    return duration(iso, "a duration");
  }

  /**
   * An ISO-8601 duration given for {@code flag} (java.time's parse: Joda's takes seconds only), or
   * an error that names the flag: not a duration, or negative.
   */
  public static Duration duration(String iso, String flag) {
    java.time.Duration d;
    try {
      d = java.time.Duration.parse(iso);
    } catch (java.time.format.DateTimeParseException | NullPointerException e) {
      throw new IllegalArgumentException(
          flag + " must be an ISO-8601 duration like PT10S or PT1H, got '" + iso + "'");
    }
    if (d.isNegative()) {
      throw new IllegalArgumentException(flag + " must not be negative, got " + iso);
    }
    return Duration.millis(d.toMillis());
  }
}
