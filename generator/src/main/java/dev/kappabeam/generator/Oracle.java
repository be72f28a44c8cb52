package dev.kappabeam.generator;

import dev.kappabeam.transforms.events.Event;
import dev.kappabeam.transforms.events.EventParser;
import dev.kappabeam.transforms.events.EventType;
import dev.kappabeam.transforms.events.ParseError;
import dev.kappabeam.transforms.views.Sums;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.Views;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Instant;

/**
 * Computes the reference views of a log in plain Java, without a pipeline: the expected answer of a
 * bounded run (and of a streaming run in which nothing is later than the allowed lateness).
 *
 * <p>Semantics, the same as {@code ReferenceViews}: each value is parsed with {@link EventParser};
 * invalid ones are dead-lettered; valid ones are de-duplicated by {@code event_id}, the first in
 * log order winning; the unique events are accepted (all types); events of {@link
 * ViewParameters#excludedTypes()} are then left out of every view. Windows are aligned to the
 * epoch; a session continues while the next event of the user is less than {@link
 * ViewParameters#sessionGap()} after the previous one. Allowed lateness and the de-duplication
 * horizon do not change a bounded answer and are not used. Rows have exactly the schemas of {@link
 * Views} and are sorted by key, as {@link dev.kappabeam.transforms.views.ViewTable} lists them.
 *
 * <pre>{@code
 * Oracle.Result expected = Oracle.compute(values, ViewParameters.defaults());
 * List<Row> sessions = expected.rows(Views.USER_SESSIONS);
 * }</pre>
 */
public final class Oracle {
  private static final long MINUTE_MILLIS = Views.MINUTE.getMillis();
  private static final long HOUR_MILLIS = Views.HOUR.getMillis();

  private Oracle() {}

  /** The views of raw record values (in log order) with the given parameters. */
  public static Result compute(List<byte[]> values, ViewParameters params) {
    Objects.requireNonNull(params, "params");
    long parsed = 0;
    Map<ParseError, Long> errors = new EnumMap<>(ParseError.class);
    Set<String> seen = new HashSet<>();
    List<Event> unique = new ArrayList<>();
    for (byte[] value : values) {
      EventParser.Result r = EventParser.parse(value);
      if (!r.isValid()) {
        errors.merge(r.error(), 1L, Long::sum);
        continue;
      }
      parsed++;
      if (seen.add(r.event().eventId())) {
        unique.add(r.event());
      }
    }
    return new Result(values.size(), parsed, errors, unique, views(unique, params));
  }

  /** The views of a generated workload, from its record values. */
  public static Result computeFromRecords(List<GeneratedRecord> records, ViewParameters params) {
    List<byte[]> values = new ArrayList<>(records.size());
    for (GeneratedRecord r : records) {
      values.add(r.value());
    }
    return compute(values, params);
  }

  /**
   * The views of already parsed, de-duplicated events (for example the events a streaming run
   * accepted); applies only the type exclusion. Keyed by view name, in {@link Views#all()} order.
   */
  public static Map<String, List<Row>> views(List<Event> events, ViewParameters params) {
    Set<EventType> excluded = params.excludedTypes();
    List<Event> selected = new ArrayList<>(events.size());
    for (Event e : events) {
      if (!excluded.contains(e.type())) {
        selected.add(e);
      }
    }
    Map<String, List<Row>> out = new LinkedHashMap<>();
    for (ViewDefinition v : Views.all()) {
      List<Row> rows;
      switch (v.name()) {
        case "activity_per_minute":
          rows = activityPerMinute(selected);
          break;
        case "item_revenue_hourly":
          rows = itemRevenueHourly(selected);
          break;
        case "user_sessions":
          rows = userSessions(selected, params.sessionGap().getMillis());
          break;
        default:
          throw new IllegalStateException("no oracle for view " + v.name());
      }
      out.put(v.name(), Collections.unmodifiableList(sortedByKey(v, rows)));
    }
    return Collections.unmodifiableMap(out);
  }

  /** Start of the epoch-aligned window of {@code size} ms holding {@code millis}. */
  public static long windowStart(long millis, long size) {
    return Math.floorDiv(millis, size) * size;
  }

  /**
   * {@code activity_per_minute}: per (minute, type) the events, exact distinct users and purchase
   * revenue (amounts on other types earn nothing).
   */
  static List<Row> activityPerMinute(List<Event> events) {
    Map<List<Object>, long[]> counts = new HashMap<>();
    Map<List<Object>, Set<String>> users = new HashMap<>();
    for (Event e : events) {
      List<Object> key = List.of(windowStart(e.timestampMillis(), MINUTE_MILLIS), e.type().json());
      long[] c = counts.computeIfAbsent(key, k -> new long[2]);
      c[0]++;
      c[1] = Sums.add(c[1], e.revenueCents());
      users.computeIfAbsent(key, k -> new HashSet<>()).add(e.userId());
    }
    List<Row> rows = new ArrayList<>(counts.size());
    for (Map.Entry<List<Object>, long[]> en : counts.entrySet()) {
      List<Object> key = en.getKey();
      rows.add(
          Row.withSchema(Views.ACTIVITY_PER_MINUTE.schema())
              .addValues(
                  new Instant((long) key.get(0)),
                  key.get(1),
                  en.getValue()[0],
                  (long) users.get(key).size(),
                  en.getValue()[1])
              .build());
    }
    return rows;
  }

  /** {@code item_revenue_hourly}: per (hour, item) of purchase events, the count and revenue. */
  static List<Row> itemRevenueHourly(List<Event> events) {
    Map<List<Object>, long[]> counts = new HashMap<>();
    for (Event e : events) {
      if (!e.isPurchase()) {
        continue;
      }
      List<Object> key =
          List.of(
              windowStart(e.timestampMillis(), HOUR_MILLIS),
              Objects.requireNonNull(e.item(), "purchase without item"));
      long[] c = counts.computeIfAbsent(key, k -> new long[2]);
      c[0]++;
      c[1] = Sums.add(c[1], e.revenueCents());
    }
    List<Row> rows = new ArrayList<>(counts.size());
    for (Map.Entry<List<Object>, long[]> en : counts.entrySet()) {
      rows.add(
          Row.withSchema(Views.ITEM_REVENUE_HOURLY.schema())
              .addValues(
                  new Instant((long) en.getKey().get(0)),
                  en.getKey().get(1),
                  en.getValue()[0],
                  en.getValue()[1])
              .build());
    }
    return rows;
  }

  /**
   * {@code user_sessions}: per user, events sorted by time; a session ends where the next event is
   * {@code gapMillis} or more after the previous one. This is Beam's {@code Sessions}: each event
   * opens {@code [ts, ts + gap)} and windows merge only when they overlap, so a gap of exactly
   * {@code gapMillis} splits.
   */
  static List<Row> userSessions(List<Event> events, long gapMillis) {
    Map<String, List<Event>> byUser = new HashMap<>();
    for (Event e : events) {
      byUser.computeIfAbsent(e.userId(), k -> new ArrayList<>()).add(e);
    }
    List<Row> rows = new ArrayList<>();
    for (Map.Entry<String, List<Event>> en : byUser.entrySet()) {
      List<Event> list = en.getValue();
      list.sort(Comparator.comparingLong(Event::timestampMillis));
      long first = list.get(0).timestampMillis();
      long last = first;
      long count = 0;
      long bought = 0;
      for (Event e : list) {
        long ts = e.timestampMillis();
        if (count > 0 && ts - last >= gapMillis) {
          rows.add(sessionRow(en.getKey(), first, last, count, bought));
          first = ts;
          count = 0;
          bought = 0;
        }
        last = ts;
        count++;
        if (e.isPurchase()) {
          bought++;
        }
      }
      rows.add(sessionRow(en.getKey(), first, last, count, bought));
    }
    return rows;
  }

  private static Row sessionRow(String user, long first, long last, long events, long purchases) {
    return Row.withSchema(Views.USER_SESSIONS.schema())
        .addValues(user, new Instant(first), new Instant(last), events, purchases)
        .build();
  }

  /**
   * Sorts as {@code ViewTable.rows()} does. The oracle emits one row per key and no session row
   * contains another, so applying the rows to a {@code ViewTable} would keep them all; sorting
   * directly avoids its per-row scan of the table.
   */
  private static List<Row> sortedByKey(ViewDefinition view, List<Row> rows) {
    rows.sort(Comparator.comparing(view::key, Oracle::compareKeys));
    return rows;
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static int compareKeys(List<Object> a, List<Object> b) {
    for (int i = 0; i < a.size(); i++) {
      int c = ((Comparable) a.get(i)).compareTo(b.get(i));
      if (c != 0) {
        return c;
      }
    }
    return 0;
  }

  /**
   * The oracle's answer: the rows of each view and the counters. {@code read == parsed +
   * deadLettered} and {@code parsed == accepted + duplicates}.
   */
  public static final class Result {
    private final long read;
    private final long parsed;
    private final Map<ParseError, Long> deadLettersByError;
    private final List<Event> accepted;
    private final Map<String, List<Row>> views;

    private Result(
        long read,
        long parsed,
        Map<ParseError, Long> deadLettersByError,
        List<Event> accepted,
        Map<String, List<Row>> views) {
      this.read = read;
      this.parsed = parsed;
      this.deadLettersByError = Collections.unmodifiableMap(deadLettersByError);
      this.accepted = Collections.unmodifiableList(accepted);
      this.views = views;
    }

    /** Rows per view name, in {@link Views#all()} order, each list sorted by key. */
    public Map<String, List<Row>> views() {
      return views;
    }

    /** The rows of one view, sorted by key. */
    public List<Row> rows(ViewDefinition view) {
      List<Row> rows = views.get(view.name());
      if (rows == null) {
        throw new IllegalArgumentException(
            "unknown view " + view.name() + "; known: " + Views.names());
      }
      return rows;
    }

    /** Records read. */
    public long read() {
      return read;
    }

    /** Records that parsed and validated, duplicates included. */
    public long parsed() {
      return parsed;
    }

    /** Records that failed to parse or validate. */
    public long deadLettered() {
      return read - parsed;
    }

    /** Valid records whose event_id had been seen before. */
    public long duplicates() {
      return parsed - accepted.size();
    }

    /** Unique valid events, excluded types included. */
    public long accepted() {
      return accepted.size();
    }

    /** Dead letters per error (only errors that occurred). */
    public Map<ParseError, Long> deadLettersByError() {
      return deadLettersByError;
    }

    /** The accepted events, first copies, in log order. */
    public List<Event> acceptedEvents() {
      return accepted;
    }

    @Override
    public String toString() {
      return "Oracle.Result{read="
          + read
          + ", parsed="
          + parsed
          + ", deadLettered="
          + deadLettered()
          + ", duplicates="
          + duplicates()
          + ", accepted="
          + accepted()
          + ", rows="
          + views.entrySet().stream().map(e -> e.getKey() + ":" + e.getValue().size()).toList()
          + "}";
    }
  }
}
