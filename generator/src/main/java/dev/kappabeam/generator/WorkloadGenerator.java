package dev.kappabeam.generator;

import dev.kappabeam.generator.GeneratedRecord.Kind;
import dev.kappabeam.transforms.events.EventJson;
import dev.kappabeam.transforms.events.EventParser;
import dev.kappabeam.transforms.events.EventType;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Random;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Generates the reference workload: JSON events keyed by user, with controlled fractions of
 * out-of-order, late, too-late, duplicate and malformed records, reproducibly from a seed.
 *
 * <p>The same settings always give byte-identical records, on any JDK: all randomness comes from
 * one {@link Random} seeded with {@link #seed()}, using only the methods whose sequences the JDK
 * specifies; nothing depends on the clock or on hash order.
 *
 * <p>Event time starts at {@link #start()} and advances by {@code 1000 / eventsPerSecond} ms per
 * record on average (uniformly between 0 and twice that). Records are returned in log (arrival)
 * order. Displacements are measured from the newest event time generated so far:
 *
 * <ul>
 *   <li>{@code OUT_OF_ORDER}: 1 ms to {@link #maxOutOfOrderness()} behind (default 5 s);
 *   <li>{@code LATE}: more than {@link #lateMin()} and at most {@link #lateMax()} behind (default
 *       15 s to 10 min: beyond a 10 s watermark bound, within a 1 h allowed lateness);
 *   <li>{@code TOO_LATE}: {@link #tooLateMin()} to {@link #tooLateMax()} behind (default 2 h to 3
 *       h: beyond a 1 h allowed lateness). Neither kind occurs among the first {@link
 *       #lateWarmUp()} records (default {@value #DEFAULT_LATE_WARM_UP}), when a consumer has no
 *       watermark yet to be late against;
 *   <li>{@code DUPLICATE}: a byte-identical copy of a {@code VALID}, {@code OUT_OF_ORDER} or {@code
 *       LATE} record from 1 to {@value #DUPLICATE_DISTANCE} records earlier (each original is
 *       re-sent at most once), so well within a de-duplication horizon;
 *   <li>{@code MALFORMED}: every {@link MalformedKind} in turn.
 * </ul>
 *
 * <p>Events: {@code event_id} {@code e-%08d} (another prefix with {@link #withEventIdPrefix}),
 * unique; users {@code u-N} and items {@code sku-N} with a Zipf-skewed popularity, about 2% of them
 * with non-ASCII names ({@code u-Zoë-7}, {@code sku-日本-3}); types about 60% view, 25% click, 10%
 * cart, 5% purchase; purchases always carry {@code item} and {@code amount_cents} (100 to 50000),
 * other types sometimes an item and rarely an amount. {@code ts} is mostly ISO-8601 UTC with
 * millis, sometimes with a non-zero offset, sometimes epoch millis; about 10% of records carry
 * unknown extra fields and 20% have their fields shuffled. The key is the {@code user_id} in UTF-8
 * (for some malformed records, {@code null}).
 *
 * <pre>{@code
 * List<GeneratedRecord> log = WorkloadGenerator.seeded(42).withCount(10_000)
 *     .withLateFraction(0.01).generate();
 * }</pre>
 */
public final class WorkloadGenerator {
  /** Default start of event time. */
  public static final Instant DEFAULT_START = Instant.parse("2026-11-25T10:00:00Z");

  /** By default the first this many records are never late or too late. */
  public static final int DEFAULT_LATE_WARM_UP = 100;

  /** A duplicate follows its original within this many records. */
  public static final int DUPLICATE_DISTANCE = 50;

  private static final String[] NON_ASCII_USER_NAMES = {
    "Zoë", "José", "Øyvind", "Мария", "李", "😀"
  };
  private static final String[] NON_ASCII_ITEM_NAMES = {"日本", "café", "Größe", "☕"};
  private static final ZoneOffset[] OFFSETS = {
    ZoneOffset.ofHours(1),
    ZoneOffset.ofHours(-5),
    ZoneOffset.ofHoursMinutes(5, 30),
    ZoneOffset.ofHours(9),
    ZoneOffset.ofHoursMinutes(-3, -30),
    ZoneOffset.ofHours(14)
  };
  private static final DateTimeFormatter TS_FORMAT =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSXXX", Locale.ROOT);
  private static final DateTimeFormatter LOCAL_TS_FORMAT =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss", Locale.ROOT);
  private static final DateTimeFormatter LOCAL_TS_FORMAT_MILLIS =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS", Locale.ROOT);

  /** Unknown fields the parser must ignore: name, raw JSON value. */
  private static final String[][] EXTRA_FIELDS = {
    {"schema_version", "2"},
    {"source", "\"web\""},
    {"meta", "{\"ua\":\"Mozilla/5.0 (X11; Linux x86_64)\",\"tags\":[\"a\",\"b\"],\"n\":null}"},
    {"experiment", "[1,2,3]"},
    {"debug", "true"},
    {"price_hint", "12.5"},
    {"note", "\"ünïcödé ✓ \\\"quoted\\\"\""},
    {"session_hint", "null"}
  };

  /** Invalid UTF-8: bad start byte, bad continuation, lone continuation, overlong, surrogate. */
  private static final byte[][] INVALID_UTF8 = {
    {(byte) 0xFF},
    {(byte) 0xC3, (byte) 0x28},
    {(byte) 0x80},
    {(byte) 0xC0, (byte) 0xAF},
    {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
    {(byte) 0xE6, (byte) 0x97}
  };

  private static final String GARBAGE_FIRST = "@#%&*<>?!~^|=;`§¿ü日Ω";
  private static final String GARBAGE_REST =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
          + " \t,.:;{}[]\"'\\/+-_=()<>@#$%^&*!?~`|äöüßéèñçØøЖж日本語中文☕✓€";

  private static final byte[] USER_ID_MARKER = "\"user_id\":\"".getBytes(StandardCharsets.UTF_8);

  /** The settings; never modified once a generator holds them. */
  private static final class Settings implements Cloneable {
    long seed;
    int count = 1000;
    int users = 200;
    int items = 50;
    Instant start = DEFAULT_START;
    double eventsPerSecond = 50;
    double outOfOrderFraction = 0.05;
    Duration maxOutOfOrderness = Duration.ofSeconds(5);
    double lateFraction = 0.0;
    Duration lateMin = Duration.ofSeconds(15);
    Duration lateMax = Duration.ofMinutes(10);
    double tooLateFraction = 0.0;
    Duration tooLateMin = Duration.ofHours(2);
    Duration tooLateMax = Duration.ofHours(3);
    double duplicateFraction = 0.02;
    double malformedFraction = 0.02;
    int lateWarmUp = DEFAULT_LATE_WARM_UP;
    String eventIdPrefix = DEFAULT_EVENT_ID_PREFIX;

    @Override
    protected Settings clone() {
      try {
        return (Settings) super.clone();
      } catch (CloneNotSupportedException e) {
        throw new AssertionError(e);
      }
    }
  }

  private final Settings s;

  private WorkloadGenerator(Settings s) {
    this.s = s;
  }

  /**
   * A generator with the given seed and the defaults: 1000 records, 200 users, 50 items, from
   * 2026-11-25T10:00:00Z at 50 events/s, 5% out of order (up to 5 s), 2% duplicates, 2% malformed,
   * nothing late.
   */
  public static WorkloadGenerator seeded(long seed) {
    Settings s = new Settings();
    s.seed = seed;
    return new WorkloadGenerator(s);
  }

  public WorkloadGenerator withSeed(long seed) {
    Settings c = s.clone();
    c.seed = seed;
    return new WorkloadGenerator(c);
  }

  /** The event_id prefix of earlier releases and of {@link #seeded}: ids {@code e-00000001}... */
  public static final String DEFAULT_EVENT_ID_PREFIX = "e-";

  /**
   * Event ids are {@code prefix} then an eight-digit number from 1: two runs with different
   * prefixes never share an id (the same prefix and seed give the same records). 1 to 64 ASCII
   * letters, digits, '-', '_' or '.'.
   */
  public WorkloadGenerator withEventIdPrefix(String prefix) {
    if (prefix == null || !prefix.matches("[A-Za-z0-9._-]{1,64}")) {
      throw new IllegalArgumentException(
          "an event id prefix is 1 to 64 of A-Z a-z 0-9 . _ -, got '" + prefix + "'");
    }
    Settings c = s.clone();
    c.eventIdPrefix = prefix;
    return new WorkloadGenerator(c);
  }

  /** Number of records in total, bad ones included. */
  public WorkloadGenerator withCount(int count) {
    if (count < 0) {
      throw new IllegalArgumentException("count must be >= 0, got " + count);
    }
    Settings c = s.clone();
    c.count = count;
    return new WorkloadGenerator(c);
  }

  /** Number of distinct users ({@code u-1} .. {@code u-N}). */
  public WorkloadGenerator withUsers(int users) {
    if (users < 1) {
      throw new IllegalArgumentException("users must be >= 1, got " + users);
    }
    Settings c = s.clone();
    c.users = users;
    return new WorkloadGenerator(c);
  }

  /** Number of distinct items ({@code sku-1} .. {@code sku-N}). */
  public WorkloadGenerator withItems(int items) {
    if (items < 1) {
      throw new IllegalArgumentException("items must be >= 1, got " + items);
    }
    Settings c = s.clone();
    c.items = items;
    return new WorkloadGenerator(c);
  }

  /** Event time of the first record. */
  public WorkloadGenerator withStart(Instant start) {
    Settings c = s.clone();
    c.start = Objects.requireNonNull(start, "start");
    return new WorkloadGenerator(c);
  }

  /** Average rate in event time: event time advances {@code 1000 / rate} ms per record. */
  public WorkloadGenerator withEventsPerSecond(double rate) {
    if (!(rate > 0) || Double.isInfinite(rate)) {
      throw new IllegalArgumentException("events per second must be > 0 and finite, got " + rate);
    }
    Settings c = s.clone();
    c.eventsPerSecond = rate;
    return new WorkloadGenerator(c);
  }

  public WorkloadGenerator withOutOfOrderFraction(double fraction) {
    Settings c = s.clone();
    c.outOfOrderFraction = fraction(fraction, "out-of-order fraction");
    return new WorkloadGenerator(c);
  }

  /** How far behind the newest event time an out-of-order event may be (at least 1 ms). */
  public WorkloadGenerator withMaxOutOfOrderness(Duration max) {
    Objects.requireNonNull(max, "max");
    if (max.toMillis() < 1) {
      throw new IllegalArgumentException("max out-of-orderness must be >= 1 ms, got " + max);
    }
    Settings c = s.clone();
    c.maxOutOfOrderness = max;
    return new WorkloadGenerator(c);
  }

  public WorkloadGenerator withLateFraction(double fraction) {
    Settings c = s.clone();
    c.lateFraction = fraction(fraction, "late fraction");
    return new WorkloadGenerator(c);
  }

  /**
   * Late events are more than {@code min} and at most {@code max} behind the newest event time.
   * Choose {@code min} above the pipeline's out-of-orderness bound and {@code max} within its
   * allowed lateness.
   */
  public WorkloadGenerator withLateRange(Duration min, Duration max) {
    checkRange(min, max, "late range");
    Settings c = s.clone();
    c.lateMin = min;
    c.lateMax = max;
    return new WorkloadGenerator(c);
  }

  public WorkloadGenerator withTooLateFraction(double fraction) {
    Settings c = s.clone();
    c.tooLateFraction = fraction(fraction, "too-late fraction");
    return new WorkloadGenerator(c);
  }

  /**
   * Too-late events are {@code min} to {@code max} behind the newest event time. Choose {@code min}
   * beyond the pipeline's allowed lateness plus its out-of-orderness bound.
   */
  public WorkloadGenerator withTooLateRange(Duration min, Duration max) {
    checkRange(min, max, "too-late range");
    Settings c = s.clone();
    c.tooLateMin = min;
    c.tooLateMax = max;
    return new WorkloadGenerator(c);
  }

  /**
   * The first {@code records} records are never {@code LATE} or {@code TOO_LATE} (default {@value
   * #DEFAULT_LATE_WARM_UP}): a record can only be late against a watermark, and a consumer has none
   * before it has read something, so a too-late record at the very start would be on time.
   */
  public WorkloadGenerator withLateWarmUp(int records) {
    if (records < 0) {
      throw new IllegalArgumentException("late warm-up must be >= 0 records, got " + records);
    }
    Settings c = s.clone();
    c.lateWarmUp = records;
    return new WorkloadGenerator(c);
  }

  public WorkloadGenerator withDuplicateFraction(double fraction) {
    Settings c = s.clone();
    c.duplicateFraction = fraction(fraction, "duplicate fraction");
    return new WorkloadGenerator(c);
  }

  public WorkloadGenerator withMalformedFraction(double fraction) {
    Settings c = s.clone();
    c.malformedFraction = fraction(fraction, "malformed fraction");
    return new WorkloadGenerator(c);
  }

  public long seed() {
    return s.seed;
  }

  public int count() {
    return s.count;
  }

  public int users() {
    return s.users;
  }

  public int items() {
    return s.items;
  }

  public Instant start() {
    return s.start;
  }

  public double eventsPerSecond() {
    return s.eventsPerSecond;
  }

  public double outOfOrderFraction() {
    return s.outOfOrderFraction;
  }

  public Duration maxOutOfOrderness() {
    return s.maxOutOfOrderness;
  }

  public double lateFraction() {
    return s.lateFraction;
  }

  public Duration lateMin() {
    return s.lateMin;
  }

  public Duration lateMax() {
    return s.lateMax;
  }

  public double tooLateFraction() {
    return s.tooLateFraction;
  }

  public Duration tooLateMin() {
    return s.tooLateMin;
  }

  public Duration tooLateMax() {
    return s.tooLateMax;
  }

  public double duplicateFraction() {
    return s.duplicateFraction;
  }

  public double malformedFraction() {
    return s.malformedFraction;
  }

  public int lateWarmUp() {
    return s.lateWarmUp;
  }

  /**
   * Generates the records, in log order. Throws {@link IllegalArgumentException} if the fractions
   * add up to more than 1 or the event times would leave the range the parser accepts.
   */
  public List<GeneratedRecord> generate() {
    double total =
        s.outOfOrderFraction
            + s.lateFraction
            + s.tooLateFraction
            + s.duplicateFraction
            + s.malformedFraction;
    if (total > 1.0 + 1e-9) {
      throw new IllegalArgumentException(
          "out-of-order, late, too-late, duplicate and malformed fractions add up to "
              + total
              + "; lower some so that they add up to at most 1");
    }
    long startMillis = s.start.toEpochMilli();
    long maxBack =
        Math.max(
            s.maxOutOfOrderness.toMillis(),
            Math.max(s.lateMax.toMillis(), s.tooLateMax.toMillis()));
    double span = (double) s.count * 2 * (1000.0 / s.eventsPerSecond);
    if (startMillis - maxBack < EventParser.MIN_TIMESTAMP_MILLIS
        || startMillis + span > EventParser.MAX_TIMESTAMP_MILLIS) {
      throw new IllegalArgumentException(
          "event times from "
              + s.start
              + " would leave the range the parser accepts (years 0001 to 9999);"
              + " choose another start, count or rate");
    }
    return new Run(s).generate();
  }

  @Override
  public String toString() {
    return "WorkloadGenerator{seed="
        + s.seed
        + ", count="
        + s.count
        + ", users="
        + s.users
        + ", items="
        + s.items
        + ", start="
        + s.start
        + ", eventsPerSecond="
        + s.eventsPerSecond
        + ", outOfOrder="
        + s.outOfOrderFraction
        + " (max "
        + s.maxOutOfOrderness
        + "), late="
        + s.lateFraction
        + " ("
        + s.lateMin
        + ".."
        + s.lateMax
        + "), tooLate="
        + s.tooLateFraction
        + " ("
        + s.tooLateMin
        + ".."
        + s.tooLateMax
        + "), duplicates="
        + s.duplicateFraction
        + ", malformed="
        + s.malformedFraction
        + ", lateWarmUp="
        + s.lateWarmUp
        + "}";
  }

  /** The user id of popularity rank {@code n} (1-based); 2% of ids are non-ASCII. */
  static String userId(int n) {
    return n % 50 == 7
        ? "u-" + NON_ASCII_USER_NAMES[(n / 50) % NON_ASCII_USER_NAMES.length] + "-" + n
        : "u-" + n;
  }

  /** The item of popularity rank {@code n} (1-based); 2% of items are non-ASCII. */
  static String itemId(int n) {
    return n % 50 == 3
        ? "sku-" + NON_ASCII_ITEM_NAMES[(n / 50) % NON_ASCII_ITEM_NAMES.length] + "-" + n
        : "sku-" + n;
  }

  private static double fraction(double f, String what) {
    if (!(f >= 0 && f <= 1)) {
      throw new IllegalArgumentException(what + " must be between 0 and 1, got " + f);
    }
    return f;
  }

  private static void checkRange(Duration min, Duration max, String what) {
    Objects.requireNonNull(min, "min");
    Objects.requireNonNull(max, "max");
    if (min.isNegative() || max.toMillis() <= min.toMillis()) {
      throw new IllegalArgumentException(
          what + " needs 0 <= min < max (in whole milliseconds), got " + min + ".." + max);
    }
  }

  /** One event before it is written as JSON. */
  private static final class Draft {
    String eventId = "";
    String userId = "";
    EventType type = EventType.VIEW;
    @Nullable String item;
    @Nullable Long amountCents;
    long ts;
  }

  /** An original that may still be re-sent, with its position in the log. */
  private static final class Candidate {
    final int position;
    final GeneratedRecord record;

    Candidate(int position, GeneratedRecord record) {
      this.position = position;
      this.record = record;
    }
  }

  /** The state of one {@link #generate()} call. */
  private static final class Run {
    private final Settings s;
    private final Random rnd;
    private final double[] userCdf;
    private final double[] itemCdf;
    private final List<Candidate> candidates = new ArrayList<>();
    private final long startMillis;
    private final double meanGapMillis;
    private double clock;
    private long newest = Long.MIN_VALUE;
    private long nextEventNumber = 1;
    private int nextMalformed;

    Run(Settings s) {
      this.s = s;
      this.rnd = new Random(s.seed);
      this.userCdf = zipfCdf(s.users);
      this.itemCdf = zipfCdf(s.items);
      this.startMillis = s.start.toEpochMilli();
      this.meanGapMillis = 1000.0 / s.eventsPerSecond;
    }

    List<GeneratedRecord> generate() {
      List<GeneratedRecord> out = new ArrayList<>(s.count);
      for (int pos = 0; pos < s.count; pos++) {
        clock += rnd.nextDouble() * 2 * meanGapMillis;
        long now = startMillis + (long) clock;
        int oldest = pos - DUPLICATE_DISTANCE;
        candidates.removeIf(c -> c.position < oldest);
        GeneratedRecord r = next(chooseKind(pos), now);
        if (r.kind() == Kind.VALID || r.kind() == Kind.OUT_OF_ORDER || r.kind() == Kind.LATE) {
          candidates.add(new Candidate(pos, r));
        }
        out.add(r);
      }
      return out;
    }

    /** The kind for a position; falls back to VALID when the kind is not possible there. */
    private Kind chooseKind(int pos) {
      double r = rnd.nextDouble();
      Kind kind = Kind.VALID;
      if ((r -= s.malformedFraction) < 0) {
        kind = Kind.MALFORMED;
      } else if ((r -= s.duplicateFraction) < 0) {
        kind = candidates.isEmpty() ? Kind.VALID : Kind.DUPLICATE;
      } else if ((r -= s.outOfOrderFraction) < 0) {
        kind = Kind.OUT_OF_ORDER;
      } else if ((r -= s.lateFraction) < 0) {
        kind = Kind.LATE;
      } else if ((r -= s.tooLateFraction) < 0) {
        kind = Kind.TOO_LATE;
      }
      boolean late = kind == Kind.LATE || kind == Kind.TOO_LATE;
      boolean displaced = late || kind == Kind.OUT_OF_ORDER;
      if ((displaced && newest == Long.MIN_VALUE) || (late && pos < s.lateWarmUp)) {
        return Kind.VALID;
      }
      return kind;
    }

    private GeneratedRecord next(Kind kind, long now) {
      switch (kind) {
        case VALID:
          newest = Math.max(newest, now);
          return event(kind, now);
        case OUT_OF_ORDER:
          return event(kind, newest - uniform(1, s.maxOutOfOrderness.toMillis()));
        case LATE:
          return event(kind, newest - uniform(s.lateMin.toMillis() + 1, s.lateMax.toMillis()));
        case TOO_LATE:
          return event(kind, newest - uniform(s.tooLateMin.toMillis(), s.tooLateMax.toMillis()));
        case DUPLICATE:
          GeneratedRecord original = candidates.remove(rnd.nextInt(candidates.size())).record;
          return new GeneratedRecord(
              original.key(),
              original.value(),
              Kind.DUPLICATE,
              null,
              original.eventTimeMillis(),
              original.eventId());
        case MALFORMED:
          MalformedKind[] kinds = MalformedKind.values();
          MalformedKind m = kinds[nextMalformed++ % kinds.length];
          return malformed(m, now);
        default:
          throw new IllegalStateException(kind.toString());
      }
    }

    private GeneratedRecord event(Kind kind, long ts) {
      Draft d = draft(ts, null);
      return new GeneratedRecord(utf8(d.userId), utf8(render(json(d))), kind, null, ts, d.eventId);
    }

    /** A random valid event; {@code type} forces the type when not null. */
    private Draft draft(long ts, @Nullable EventType type) {
      Draft d = new Draft();
      d.eventId = s.eventIdPrefix + String.format(Locale.ROOT, "%08d", nextEventNumber++);
      d.userId = userId(sample(userCdf) + 1);
      d.type = type != null ? type : randomType();
      d.ts = ts;
      if (d.type == EventType.PURCHASE) {
        d.item = itemId(sample(itemCdf) + 1);
        d.amountCents = uniform(100, 50_000);
      } else {
        if (rnd.nextDouble() < 0.5) {
          d.item = itemId(sample(itemCdf) + 1);
        }
        if (rnd.nextDouble() < 0.05) {
          d.amountCents = uniform(100, 50_000);
        }
      }
      return d;
    }

    private EventType randomType() {
      double r = rnd.nextDouble();
      if (r < 0.60) {
        return EventType.VIEW;
      } else if (r < 0.85) {
        return EventType.CLICK;
      } else if (r < 0.95) {
        return EventType.CART;
      }
      return EventType.PURCHASE;
    }

    /** The event's fields in the usual order, plus sometimes unknown ones; not yet shuffled. */
    private JsonObject json(Draft d) {
      JsonObject o = new JsonObject();
      o.putString("event_id", d.eventId);
      o.putString("user_id", d.userId);
      o.putString("type", d.type.json());
      if (d.item != null) {
        o.putString("item", d.item);
      }
      if (d.amountCents != null) {
        o.put("amount_cents", Long.toString(d.amountCents));
      }
      o.put("ts", timestamp(d.ts));
      if (rnd.nextDouble() < 0.10) {
        int first = rnd.nextInt(EXTRA_FIELDS.length);
        o.put(EXTRA_FIELDS[first][0], EXTRA_FIELDS[first][1]);
        if (rnd.nextBoolean()) {
          int second = (first + 1 + rnd.nextInt(EXTRA_FIELDS.length - 1)) % EXTRA_FIELDS.length;
          o.put(EXTRA_FIELDS[second][0], EXTRA_FIELDS[second][1]);
        }
      }
      return o;
    }

    /** ISO-8601 UTC with millis (85%), with a non-zero offset (10%), or epoch millis (5%). */
    private String timestamp(long ts) {
      double r = rnd.nextDouble();
      Instant t = Instant.ofEpochMilli(ts);
      if (r < 0.85) {
        return EventJson.quote(TS_FORMAT.format(t.atOffset(ZoneOffset.UTC)));
      } else if (r < 0.95) {
        return EventJson.quote(TS_FORMAT.format(t.atOffset(OFFSETS[rnd.nextInt(OFFSETS.length)])));
      }
      return Long.toString(ts);
    }

    private GeneratedRecord malformed(MalformedKind m, long now) {
      EventType forced =
          m == MalformedKind.NEGATIVE_AMOUNT
                  || m == MalformedKind.FRACTIONAL_AMOUNT
                  || m == MalformedKind.PURCHASE_WITHOUT_AMOUNT
                  || m == MalformedKind.PURCHASE_WITHOUT_ITEM
              ? EventType.PURCHASE
              : null;
      Draft d = draft(now, forced);
      JsonObject f = json(d);
      byte[] key = utf8(d.userId);
      byte[] value;
      switch (m) {
        case NULL_VALUE:
          value = null;
          break;
        case EMPTY_VALUE:
          value = new byte[0];
          break;
        case INVALID_UTF8:
          value = withInvalidUtf8(utf8(render(f)));
          break;
        case TRUNCATED_JSON:
          value = utf8(truncate(render(f)));
          break;
        case GARBAGE_TEXT:
          value = utf8(garbage());
          break;
        case JSON_ARRAY:
          value = utf8("[" + render(f) + "]");
          break;
        case JSON_STRING:
          value = utf8(EventJson.quote(render(f)));
          break;
        case MISSING_EVENT_ID:
          value = utf8(render(missing(f, "event_id")));
          break;
        case MISSING_USER_ID:
          key = null;
          value = utf8(render(missing(f, "user_id")));
          break;
        case MISSING_TYPE:
          value = utf8(render(missing(f, "type")));
          break;
        case MISSING_TS:
          value = utf8(render(missing(f, "ts")));
          break;
        case NUMERIC_USER_ID:
          String digits = d.userId.replaceAll("[^0-9]", "");
          key = utf8(digits);
          value = utf8(render(f.put("user_id", digits)));
          break;
        case EMPTY_EVENT_ID:
          value = utf8(render(f.put("event_id", rnd.nextBoolean() ? "\"\"" : "\"  \"")));
          break;
        case UNKNOWN_TYPE:
          value = utf8(render(f.put("type", "\"refund\"")));
          break;
        case NEGATIVE_AMOUNT:
          value = utf8(render(f.put("amount_cents", Long.toString(-uniform(1, 50_000)))));
          break;
        case FRACTIONAL_AMOUNT:
          value = utf8(render(f.put("amount_cents", uniform(1, 50_000) + ".5")));
          break;
        case PURCHASE_WITHOUT_AMOUNT:
          value = utf8(render(missing(f, "amount_cents")));
          break;
        case PURCHASE_WITHOUT_ITEM:
          value = utf8(render(missing(f, "item")));
          break;
        case TS_NOT_A_TIME:
          value = utf8(render(f.put("ts", "\"yesterday\"")));
          break;
        case TS_WITHOUT_ZONE:
          String local =
              (rnd.nextBoolean() ? LOCAL_TS_FORMAT : LOCAL_TS_FORMAT_MILLIS)
                  .format(Instant.ofEpochMilli(now).atOffset(ZoneOffset.UTC));
          value = utf8(render(f.put("ts", EventJson.quote(local))));
          break;
        default:
          throw new IllegalStateException(m.toString());
      }
      boolean raw =
          m == MalformedKind.NULL_VALUE
              || m == MalformedKind.EMPTY_VALUE
              || m == MalformedKind.INVALID_UTF8
              || m == MalformedKind.TRUNCATED_JSON
              || m == MalformedKind.GARBAGE_TEXT;
      if (raw && rnd.nextBoolean()) {
        key = null;
      }
      return new GeneratedRecord(key, value, Kind.MALFORMED, m, now, null);
    }

    /** Renders, with the fields shuffled one time in five. */
    private String render(JsonObject o) {
      if (rnd.nextDouble() < 0.2) {
        o.shuffle(rnd);
      }
      return o.render();
    }

    /** Makes a field absent: leaves it out or sets it to JSON null (which counts as absent). */
    private JsonObject missing(JsonObject o, String name) {
      return rnd.nextBoolean() ? o.remove(name) : o.put(name, "null");
    }

    /** Inserts an invalid sequence at the start of the user_id string. */
    private byte[] withInvalidUtf8(byte[] json) {
      byte[] bad = INVALID_UTF8[rnd.nextInt(INVALID_UTF8.length)];
      int at = indexOf(json, USER_ID_MARKER) + USER_ID_MARKER.length;
      byte[] out = new byte[json.length + bad.length];
      System.arraycopy(json, 0, out, 0, at);
      System.arraycopy(bad, 0, out, at, bad.length);
      System.arraycopy(json, at, out, at + bad.length, json.length - at);
      return out;
    }

    /** Cuts before the closing brace, never inside a surrogate pair (so still valid UTF-8). */
    private String truncate(String json) {
      int cut = 1 + rnd.nextInt(json.length() - 1);
      if (Character.isHighSurrogate(json.charAt(cut - 1))) {
        cut--;
      }
      return json.substring(0, cut);
    }

    /** Text that cannot start a JSON value. */
    private String garbage() {
      StringBuilder b = new StringBuilder();
      b.appendCodePoint(randomCodePoint(GARBAGE_FIRST));
      int length = 8 + rnd.nextInt(73);
      while (b.length() < length) {
        b.appendCodePoint(randomCodePoint(GARBAGE_REST));
      }
      return b.toString();
    }

    private int randomCodePoint(String alphabet) {
      int n = alphabet.codePointCount(0, alphabet.length());
      return alphabet.codePointAt(alphabet.offsetByCodePoints(0, rnd.nextInt(n)));
    }

    /** Uniform in [lo, hi]; ranges here are far below 2^53, so a double draw is exact enough. */
    private long uniform(long lo, long hi) {
      return lo + (long) (rnd.nextDouble() * (hi - lo + 1));
    }

    private int sample(double[] cdf) {
      int i = Arrays.binarySearch(cdf, rnd.nextDouble());
      return i >= 0 ? i : -i - 1;
    }
  }

  /** Cumulative Zipf(1) probabilities over ranks 1..n. */
  private static double[] zipfCdf(int n) {
    double[] cdf = new double[n];
    double sum = 0;
    for (int i = 0; i < n; i++) {
      sum += 1.0 / (i + 1);
      cdf[i] = sum;
    }
    for (int i = 0; i < n; i++) {
      cdf[i] /= sum;
    }
    cdf[n - 1] = 1.0;
    return cdf;
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    throw new IllegalStateException("marker not found");
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
