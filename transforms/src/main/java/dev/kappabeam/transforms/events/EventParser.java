package dev.kappabeam.transforms.events;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.util.BufferRecycler;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Objects;
import java.util.Optional;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Parses and validates one raw record of the reference workload. Plain Java, no Beam: {@link
 * ParseEvents} applies it in a pipeline, and the oracle and the benchmark baseline call it
 * directly, so every path validates exactly the same way.
 *
 * <p>Rules (anything else is rejected with a {@link ParseError}):
 *
 * <ul>
 *   <li>The value is at most {@value #MAX_VALUE_BYTES} bytes of UTF-8 JSON holding exactly one
 *       object, nested at most {@value #MAX_NESTING_DEPTH} levels deep; unknown fields are ignored,
 *       duplicate fields and trailing data are malformed. A tombstone (no value) is rejected.
 *   <li>{@code event_id}, {@code user_id}: non-blank strings of at most {@value #MAX_ID_BYTES}
 *       bytes in UTF-8.
 *   <li>{@code type}: one of view, click, cart, purchase (case-sensitive).
 *   <li>{@code ts}: ISO-8601 date-time with {@code Z} or an offset (e.g. {@code
 *       2026-11-25T10:00:00.123Z}, {@code 2026-11-25T11:00:00+01:00}), or epoch milliseconds as a
 *       JSON integer or a string of digits; from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z.
 *   <li>{@code amount_cents}: a JSON integer from 0 to {@value #MAX_AMOUNT_CENTS}; required for
 *       purchase.
 *   <li>{@code item}: a non-blank string of at most {@value #MAX_ID_BYTES} bytes in UTF-8; required
 *       for purchase.
 *   <li>A JSON {@code null} counts as absent.
 * </ul>
 *
 * <p>The caps keep one hostile record from stopping a run: every value an accepted event carries
 * fits any sink's key index (PostgreSQL refuses index entries over about 2.7 KB), and no sum of a
 * view can overflow for any realistic count (see {@link #MAX_AMOUNT_CENTS}). The record key is not
 * read: views key by the fields of the value, so an empty or absent key is accepted.
 */
public final class EventParser {
  /**
   * Largest record value parsed: 1 MiB (Kafka's default {@code max.message.bytes}). A real event is
   * a few hundred bytes; a larger value is a dead letter ({@code too_large}) without being parsed.
   */
  public static final int MAX_VALUE_BYTES = 1 << 20;

  /** Longest {@code event_id}, {@code user_id} or {@code item}, in UTF-8 bytes. */
  public static final int MAX_ID_BYTES = 256;

  /**
   * Largest {@code amount_cents} of one event: 10^11 cents (one billion in the currency's units). A
   * sum of a view reaches {@link Long#MAX_VALUE} only after more than 92 million such purchases in
   * one window and key; should it, the aggregates saturate rather than overflow.
   */
  public static final long MAX_AMOUNT_CENTS = 100_000_000_000L;

  /** Deepest JSON nesting read (the reference event is flat; unknown fields may nest). */
  public static final int MAX_NESTING_DEPTH = 64;

  /**
   * Earliest accepted event time: 1970-01-01T00:00:00Z. Beam's {@code FixedWindows} computes the
   * window of a timestamp more than one window size before the epoch with Java's {@code %}, which
   * puts it in the wrong window; rather than give wrong rows, such events are rejected.
   */
  public static final long MIN_TIMESTAMP_MILLIS = 0L;

  /** Latest accepted event time: 9999-12-31T23:59:59.999Z. */
  public static final long MAX_TIMESTAMP_MILLIS = 253402300799999L;

  private static final JsonFactory JSON = new JsonFactory(factorySettings());

  /** Strict duplicate detection and the nesting cap: the settings of every JSON read here. */
  static JsonFactoryBuilder factorySettings() {
    JsonFactoryBuilder b = new JsonFactoryBuilder();
    b.enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION);
    b.streamReadConstraints(
        StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING_DEPTH).build());
    return b;
  }

  private EventParser() {}

  /** The outcome of parsing one record: an event, or an error with a detail. */
  public static final class Result extends Parsed<Event> {
    private final @Nullable ParseError error;

    private Result(@Nullable Event event, @Nullable ParseError error, String detail) {
      super(event, error == null ? null : error.code(), detail);
      this.error = error;
    }

    static Result ok(Event e) {
      return new Result(e, null, "");
    }

    static Result fail(ParseError error, String detail) {
      return new Result(null, error, detail);
    }

    /** The error; only when not {@link #isValid()}. */
    public ParseError error() {
      return Objects.requireNonNull(error, "record is valid");
    }
  }

  /**
   * {@link #parse}, remembering the last value parsed on this thread (by identity of the array, not
   * by content) with its result. A streaming source stamps each record with its event time as it
   * reads it, and the parse step chained after it on the same thread then gets the same record:
   * with this, each record is parsed once. Where the two run apart (another thread, a later
   * bundle), the value is parsed again: the result is the same either way.
   */
  public static Result parseOnce(byte @Nullable [] value) {
    LastParse last = LAST_PARSE.get();
    if (value != null && last.value == value) {
      return last.result;
    }
    Result r = last.reader.parse(value);
    last.value = value;
    last.result = r;
    return r;
  }

  private static final ThreadLocal<LastParse> LAST_PARSE = ThreadLocal.withInitial(LastParse::new);

  /** See {@link #parseOnce}. */
  private static final class LastParse {
    final Reader reader = new Reader();
    byte @Nullable [] value;
    @Nullable Result result;
  }

  /**
   * {@link #parse} for one thread at a time, with parse buffers of its own. {@link #parse} takes
   * Jackson's buffers from a thread-local of Jackson's, one lookup per record; in a runner's task
   * thread, which holds many thread-locals, that lookup was 2% of a historical replay on Flink.
   */
  public static final class Reader {
    private final JsonFactory json = new OwnBuffers(factorySettings());

    /** {@link EventParser#parse}. Not thread-safe. */
    public Result parse(byte @Nullable [] value) {
      return EventParser.parse(value, json);
    }
  }

  /** A factory that hands every parser the same buffers: for one thread at a time. */
  private static final class OwnBuffers extends JsonFactory {
    private static final long serialVersionUID = 1L;
    private final transient BufferRecycler buffers = new BufferRecycler();

    OwnBuffers(JsonFactoryBuilder settings) {
      super(settings);
    }

    @Override
    public BufferRecycler _getBufferRecycler() {
      return buffers;
    }
  }

  /** Parses the raw value of one record. Never throws. Thread-safe. */
  public static Result parse(byte @Nullable [] value) {
    return parse(value, JSON);
  }

  private static Result parse(byte @Nullable [] value, JsonFactory json) {
    Result rejected = precheck(value);
    if (rejected != null) {
      return rejected;
    }
    return parseObject(value, json);
  }

  /**
   * The checks before any JSON is read, shared with {@link JsonFormat}: a value, at most {@value
   * #MAX_VALUE_BYTES} bytes, UTF-8 without NUL bytes; null when they pass.
   */
  static @Nullable Result precheck(byte @Nullable [] value) {
    if (value == null) {
      return Result.fail(ParseError.EMPTY_RECORD, "record has no value (a tombstone)");
    }
    if (value.length == 0) {
      return Result.fail(ParseError.EMPTY_RECORD, "record value is empty (0 bytes)");
    }
    if (value.length > MAX_VALUE_BYTES) {
      return Result.fail(
          ParseError.TOO_LARGE,
          "record value is " + value.length + " bytes; the limit is " + MAX_VALUE_BYTES);
    }
    if (!isUtf8(value)) {
      return Result.fail(ParseError.NOT_UTF8, "record is not valid UTF-8");
    }
    for (byte b : value) {
      if (b == 0) {
        // JSON text never holds a raw NUL; UTF-16/32 encoded JSON does (Jackson would accept it).
        return Result.fail(ParseError.NOT_UTF8, "record contains NUL bytes (UTF-16/32 or binary?)");
      }
    }
    return null;
  }

  private static Result parseObject(byte[] value, JsonFactory json) {
    Fields f = new Fields();
    try (JsonParser p = json.createParser(value)) {
      JsonToken first = p.nextToken();
      if (first == null) {
        return Result.fail(ParseError.MALFORMED_JSON, "no JSON value (blank record)");
      }
      if (first != JsonToken.START_OBJECT) {
        p.skipChildren();
        if (p.nextToken() != null) {
          return Result.fail(ParseError.MALFORMED_JSON, "trailing data after the JSON value");
        }
        return Result.fail(ParseError.NOT_AN_OBJECT, "expected a JSON object, got " + kind(first));
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken t = p.nextToken();
        f.read(name, t, p);
      }
      if (p.nextToken() != null) {
        return Result.fail(ParseError.MALFORMED_JSON, "trailing data after the JSON object");
      }
    } catch (StreamConstraintsException e) {
      return Result.fail(
          ParseError.TOO_DEEP, "JSON nested deeper than " + MAX_NESTING_DEPTH + " levels");
    } catch (JsonProcessingException e) {
      return Result.fail(ParseError.MALFORMED_JSON, firstLine(e.getOriginalMessage()));
    } catch (IOException e) {
      return Result.fail(ParseError.MALFORMED_JSON, firstLine(e.getMessage()));
    }
    return f.validate();
  }

  /** Parses an event time: ISO-8601 with Z or offset, or epoch millis as digits. */
  public static Optional<Long> parseTimestamp(String text) {
    if (allDigits(text)) {
      if (text.length() > 18) {
        return Optional.empty();
      }
      return inRange(Long.parseLong(text));
    }
    long utc = plainUtc(text);
    if (utc != NOT_PLAIN) {
      return inRange(utc);
    }
    return parseIso(text);
  }

  /** The full ISO-8601 parse ({@code DateTimeFormatter.ISO_OFFSET_DATE_TIME}). */
  static Optional<Long> parseIso(String text) {
    try {
      return inRange(
          OffsetDateTime.parse(text, DateTimeFormatter.ISO_OFFSET_DATE_TIME)
              .toInstant()
              .toEpochMilli());
    } catch (DateTimeParseException | ArithmeticException e) {
      return Optional.empty();
    }
  }

  private static final long NOT_PLAIN = Long.MIN_VALUE;

  /**
   * The common form {@code yyyy-MM-ddTHH:mm:ss[.fraction]Z} (1–9 fraction digits), read by hand
   * with the same answer as {@link #parseIso} ({@code OffsetDateTime.parse} was most of the parse's
   * time); {@link #NOT_PLAIN} for anything else, valid or not, which {@link #parseIso} decides.
   */
  static long plainUtc(String s) {
    int n = s.length();
    if (n < 20
        || n > 30
        || n == 21
        || s.charAt(n - 1) != 'Z'
        || s.charAt(4) != '-'
        || s.charAt(7) != '-'
        || s.charAt(10) != 'T'
        || s.charAt(13) != ':'
        || s.charAt(16) != ':'
        || (n > 20 && s.charAt(19) != '.')) {
      return NOT_PLAIN;
    }
    int year = digits(s, 0, 4);
    int month = digits(s, 5, 2);
    int day = digits(s, 8, 2);
    int hour = digits(s, 11, 2);
    int minute = digits(s, 14, 2);
    int second = digits(s, 17, 2);
    int millis = 0;
    if (n > 20) {
      int fraction = n - 21; // digits between '.' and 'Z'
      if (digits(s, 20, fraction) < 0) {
        return NOT_PLAIN;
      }
      int first = Math.min(3, fraction);
      millis = digits(s, 20, first);
      for (int i = first; i < 3; i++) {
        millis *= 10;
      }
    }
    if (year < 0
        || month < 1
        || month > 12
        || day < 1
        || day > java.time.YearMonth.of(year, month).lengthOfMonth()
        || hour < 0
        || hour > 23
        || minute < 0
        || minute > 59
        || second < 0
        || second > 59) {
      return NOT_PLAIN;
    }
    long epochDay = java.time.LocalDate.of(year, month, day).toEpochDay();
    return epochDay * 86_400_000L + hour * 3_600_000L + minute * 60_000L + second * 1000L + millis;
  }

  /** The decimal value of {@code s[from, from + count)}, or -1 unless all are ASCII digits. */
  private static int digits(String s, int from, int count) {
    int v = 0;
    for (int i = from; i < from + count; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      v = v * 10 + (c - '0');
    }
    return v;
  }

  private static boolean allDigits(String text) {
    if (text.isEmpty()) {
      return false;
    }
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }

  private static Optional<Long> inRange(long millis) {
    return millis >= MIN_TIMESTAMP_MILLIS && millis <= MAX_TIMESTAMP_MILLIS
        ? Optional.of(millis)
        : Optional.empty();
  }

  /** The raw JSON values of the fields we care about, before validation. */
  private static final class Fields {
    private @Nullable Object eventId;
    private @Nullable Object userId;
    private @Nullable Object type;
    private @Nullable Object item;
    private @Nullable Object amount;
    private @Nullable Object ts;

    void read(String name, JsonToken t, JsonParser p) throws IOException {
      switch (name) {
        case "event_id":
          eventId = value(t, p);
          break;
        case "user_id":
          userId = value(t, p);
          break;
        case "type":
          type = value(t, p);
          break;
        case "item":
          item = value(t, p);
          break;
        case "amount_cents":
          amount = value(t, p);
          break;
        case "ts":
          ts = value(t, p);
          break;
        default:
          p.skipChildren();
      }
    }

    /** String, Long, BigNumber (integer too large), Fractional, Other(kind), or null. */
    private static @Nullable Object value(JsonToken t, JsonParser p) throws IOException {
      switch (t) {
        case VALUE_STRING:
          return p.getText();
        case VALUE_NULL:
          return null;
        case VALUE_NUMBER_INT:
          if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
            return new Other("an integer that does not fit in 64 bits: " + p.getText(), true);
          }
          return p.getLongValue();
        case VALUE_NUMBER_FLOAT:
          return new Other("a fractional number: " + p.getText(), true);
        default:
          p.skipChildren();
          return new Other(kind(t), false);
      }
    }

    Result validate() {
      Result r;
      if ((r = requireString("event_id", eventId)) != null
          || (r = requireString("user_id", userId)) != null) {
        return r;
      }
      if (type == null) {
        return Result.fail(ParseError.MISSING_FIELD, "missing field: type");
      }
      if (!(type instanceof String)) {
        return Result.fail(ParseError.WRONG_TYPE, "type must be a string, got " + describe(type));
      }
      Optional<EventType> eventType = EventType.fromJson((String) type);
      if (eventType.isEmpty()) {
        return Result.fail(
            ParseError.INVALID_TYPE,
            "'" + abbreviate((String) type) + "' is not one of view, click, cart, purchase");
      }
      long millis;
      if (ts == null) {
        return Result.fail(ParseError.MISSING_FIELD, "missing field: ts");
      } else if (ts instanceof Long) {
        Optional<Long> m = inRange((Long) ts);
        if (m.isEmpty()) {
          return Result.fail(ParseError.INVALID_TIMESTAMP, "ts out of range: " + ts);
        }
        millis = m.get();
      } else if (ts instanceof String) {
        Optional<Long> m = parseTimestamp((String) ts);
        if (m.isEmpty()) {
          return Result.fail(
              ParseError.INVALID_TIMESTAMP,
              "ts must be ISO-8601 with Z or an offset, or epoch millis: '"
                  + abbreviate((String) ts)
                  + "'");
        }
        millis = m.get();
      } else {
        return Result.fail(
            ParseError.INVALID_TIMESTAMP,
            "ts must be an ISO-8601 string or epoch millis, got " + describe(ts));
      }
      boolean purchase = eventType.get() == EventType.PURCHASE;
      Long amountCents = null;
      if (amount == null) {
        if (purchase) {
          return Result.fail(
              ParseError.MISSING_FIELD, "missing field: amount_cents (required for purchase)");
        }
      } else if (amount instanceof Long) {
        if ((Long) amount < 0) {
          return Result.fail(ParseError.INVALID_AMOUNT, "amount_cents must be >= 0, got " + amount);
        }
        if ((Long) amount > MAX_AMOUNT_CENTS) {
          return Result.fail(
              ParseError.INVALID_AMOUNT,
              "amount_cents must be at most " + MAX_AMOUNT_CENTS + ", got " + amount);
        }
        amountCents = (Long) amount;
      } else if (amount instanceof Other && ((Other) amount).numeric) {
        return Result.fail(
            ParseError.INVALID_AMOUNT,
            "amount_cents must be a non-negative integer, got " + describe(amount));
      } else {
        return Result.fail(
            ParseError.WRONG_TYPE, "amount_cents must be a JSON integer, got " + describe(amount));
      }
      String itemValue = null;
      if (item == null) {
        if (purchase) {
          return Result.fail(
              ParseError.MISSING_FIELD, "missing field: item (required for purchase)");
        }
      } else {
        r = requireString("item", item);
        if (r != null) {
          return r;
        }
        itemValue = (String) item;
      }
      return Result.ok(
          new Event(
              (String) eventId, (String) userId, eventType.get(), itemValue, amountCents, millis));
    }

    private static @Nullable Result requireString(String field, @Nullable Object v) {
      if (v == null) {
        return Result.fail(ParseError.MISSING_FIELD, "missing field: " + field);
      }
      if (!(v instanceof String)) {
        return Result.fail(ParseError.WRONG_TYPE, field + " must be a string, got " + describe(v));
      }
      if (((String) v).isBlank()) {
        return Result.fail(ParseError.EMPTY_STRING, field + " must be a non-empty string");
      }
      long bytes = utf8Length((String) v);
      if (bytes > MAX_ID_BYTES) {
        return Result.fail(
            ParseError.TOO_LONG,
            field + " is " + bytes + " bytes in UTF-8; the limit is " + MAX_ID_BYTES);
      }
      return null;
    }
  }

  /** A JSON value of a kind we do not accept for a field, described for the reason. */
  private static final class Other {
    final String description;
    final boolean numeric;

    Other(String description, boolean numeric) {
      this.description = description;
      this.numeric = numeric;
    }
  }

  private static String describe(Object v) {
    if (v instanceof Other) {
      return ((Other) v).description;
    }
    if (v instanceof Long) {
      return "a number: " + v;
    }
    return "a string: '" + abbreviate(v.toString()) + "'";
  }

  static String kind(JsonToken t) {
    switch (t) {
      case START_OBJECT:
        return "an object";
      case START_ARRAY:
        return "an array";
      case VALUE_STRING:
        return "a string";
      case VALUE_NUMBER_INT:
      case VALUE_NUMBER_FLOAT:
        return "a number";
      case VALUE_TRUE:
      case VALUE_FALSE:
        return "a boolean";
      case VALUE_NULL:
        return "null";
      default:
        return t.toString();
    }
  }

  static String abbreviate(String s) {
    return s.length() <= 64 ? s : s.substring(0, 61) + "...";
  }

  static String firstLine(@Nullable String message) {
    if (message == null) {
      return "unreadable JSON";
    }
    int nl = message.indexOf('\n');
    return abbreviate(nl < 0 ? message : message.substring(0, nl)).strip();
  }

  /** Bytes of {@code s} in UTF-8 (an unpaired surrogate counts as the 3 bytes of its escape). */
  static long utf8Length(String s) {
    long n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        n += 1;
      } else if (c < 0x800) {
        n += 2;
      } else if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        n += 4;
        i++;
      } else {
        n += 3;
      }
    }
    return n;
  }

  private static boolean isUtf8(byte[] bytes) {
    for (byte b : bytes) {
      if (b < 0) {
        try {
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes));
          return true;
        } catch (CharacterCodingException e) {
          return false;
        }
      }
    }
    return true;
  }
}
