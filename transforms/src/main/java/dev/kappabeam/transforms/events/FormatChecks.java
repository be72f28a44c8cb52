package dev.kappabeam.transforms.events;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.beam.sdk.coders.Coder;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The rules every format's events meet before the machinery takes them, whatever the format: the
 * parse did not throw, the id is usable as a key, the event time is one that windows handle. A
 * record that breaks one is a dead letter like any other.
 */
final class FormatChecks {
  private FormatChecks() {}

  /** Earliest accepted event time (see {@link EventParser#MIN_TIMESTAMP_MILLIS}). */
  static final long MIN_TIME = EventParser.MIN_TIMESTAMP_MILLIS;

  /** Latest accepted event time (see {@link EventParser#MAX_TIMESTAMP_MILLIS}). */
  static final long MAX_TIME = EventParser.MAX_TIMESTAMP_MILLIS;

  /** {@code reader}'s parse of {@code value}, held to the rules above. */
  static <E> Parsed<E> parse(
      EventFormat<E> format, EventFormat.Reader<E> reader, byte @Nullable [] value) {
    Parsed<E> p;
    try {
      p = reader.parse(value);
      if (p == null) {
        return Parsed.rejected("format_error", "event format " + format.name() + " returned null");
      }
      if (!p.isValid()) {
        return p;
      }
      return checked(format, p);
    } catch (EventFormat.Unavailable e) {
      throw e;
    } catch (RuntimeException e) {
      return Parsed.rejected(
          "format_error",
          "event format " + format.name() + " failed: " + e.getClass().getSimpleName());
    }
  }

  private static <E> Parsed<E> checked(EventFormat<E> format, Parsed<E> p) {
    E event = p.event();
    String id = format.id(event);
    if (id == null || id.isBlank()) {
      return Parsed.rejected("missing_field", "the event has no id");
    }
    if (id.length() * 3L > EventFormat.MAX_ID_BYTES
        && EventParser.utf8Length(id) > EventFormat.MAX_ID_BYTES) {
      return Parsed.rejected(
          "too_long",
          "the event id is "
              + EventParser.utf8Length(id)
              + " bytes in UTF-8; the limit is "
              + EventFormat.MAX_ID_BYTES);
    }
    long t = format.eventTimeMillis(event);
    if (t < MIN_TIME || t > MAX_TIME) {
      return Parsed.rejected(
          "invalid_timestamp", "event time " + t + " ms is outside 1970-01-01..9999-12-31 UTC");
    }
    return p;
  }

  /**
   * {@link #parse} with the thread's reader of the format, remembering the last value parsed on
   * this thread (by identity of the array, not by content) with its result. A streaming source
   * stamps each record with its event time as it reads it, and the parse step chained after it on
   * the same thread then gets the same record: with this, each record is parsed once. Where the two
   * run apart (another thread, a later bundle), the value is parsed again: the result is the same.
   */
  @SuppressWarnings("unchecked")
  static <E> Parsed<E> parseOnce(EventFormat<E> format, byte @Nullable [] value) {
    LastParse last = LAST_PARSE.get();
    if (last.format == null
        || last.format.getClass() != format.getClass()
        || !last.format.name().equals(format.name())) {
      last.format = format;
      last.reader = format.reader();
      last.value = null;
    }
    if (value != null && last.value == value) {
      return (Parsed<E>) last.result;
    }
    Parsed<E> r = parse(format, (EventFormat.Reader<E>) last.reader, value);
    last.value = value;
    last.result = r;
    return r;
  }

  private static final ThreadLocal<LastParse> LAST_PARSE = ThreadLocal.withInitial(LastParse::new);

  /** See {@link #parseOnce}. */
  private static final class LastParse {
    @Nullable EventFormat<?> format;
    EventFormat.@Nullable Reader<?> reader;
    byte @Nullable [] value;
    @Nullable Parsed<?> result;
  }

  static <E> byte[] encode(Coder<E> coder, E event) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(128);
    try {
      coder.encode(event, out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
