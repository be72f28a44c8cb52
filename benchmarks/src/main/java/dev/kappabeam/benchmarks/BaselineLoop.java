package dev.kappabeam.benchmarks;

import dev.kappabeam.transforms.events.Event;
import dev.kappabeam.transforms.events.EventParser;
import dev.kappabeam.transforms.events.EventType;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.Views;
import java.util.ArrayList;
import java.util.Arrays;
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
 * B2, the baseline: the reference views computed by a hand-written single-threaded loop, record by
 * record, with no framework. Same semantics as {@code ReferenceViews} in a bounded run (and as the
 * generator's {@code Oracle}): parse and validate with {@link EventParser}, exact de-duplication by
 * {@code event_id} (first copy in read order wins), excluded types left out of the views, windows
 * aligned to the epoch, sessions split where the next event of a user is a session gap or more
 * after the previous one.
 *
 * <p>Unlike the oracle it keeps no list of values or events: aggregates are updated as records
 * arrive, and per user only a {@code long} per event (time and purchase flag) is kept for the
 * session sweep at the end.
 *
 * <pre>{@code
 * BaselineLoop loop = new BaselineLoop(ViewParameters.defaults());
 * for (byte[] value : values) loop.accept(value);
 * List<Row> sessions = loop.rows().get(Views.USER_SESSIONS);
 * }</pre>
 */
final class BaselineLoop {
  private static final long MINUTE = Views.MINUTE.getMillis();
  private static final long HOUR = Views.HOUR.getMillis();

  private record ActivityKey(long window, EventType type) {}

  private record ItemKey(long window, String item) {}

  private static final class ActivityAgg {
    long events;
    long revenue;
    final Set<String> users = new HashSet<>();
  }

  /** Per-user event times, each {@code ts << 1 | purchase}, appended in read order. */
  private static final class Times {
    long[] values = new long[4];
    int size;

    void add(long v) {
      if (size == values.length) {
        values = Arrays.copyOf(values, size * 2);
      }
      values[size++] = v;
    }
  }

  private final Set<EventType> excluded;
  private final long sessionGap;
  private final Set<String> seen = new HashSet<>();
  private final Map<ActivityKey, ActivityAgg> activity = new HashMap<>();
  private final Map<ItemKey, long[]> items = new HashMap<>();
  private final Map<String, Times> sessions = new HashMap<>();
  private long read;
  private long parsed;
  private long accepted;

  BaselineLoop(ViewParameters params) {
    this.excluded = Set.copyOf(params.excludedTypes());
    this.sessionGap = params.sessionGap().getMillis();
  }

  /** Reads one record value. */
  void accept(byte[] value) {
    read++;
    EventParser.Result r = EventParser.parse(value);
    if (!r.isValid()) {
      return;
    }
    parsed++;
    Event e = r.event();
    if (!seen.add(e.eventId())) {
      return;
    }
    accepted++;
    if (excluded.contains(e.type())) {
      return;
    }
    long ts = e.timestampMillis();
    ActivityAgg a =
        activity.computeIfAbsent(
            new ActivityKey(Math.floorDiv(ts, MINUTE) * MINUTE, e.type()), k -> new ActivityAgg());
    a.events++;
    a.revenue = Math.addExact(a.revenue, e.revenueCents());
    a.users.add(e.userId());
    if (e.isPurchase()) {
      long[] c =
          items.computeIfAbsent(
              new ItemKey(
                  Math.floorDiv(ts, HOUR) * HOUR,
                  Objects.requireNonNull(e.item(), "purchase without item")),
              k -> new long[2]);
      c[0]++;
      c[1] = Math.addExact(c[1], e.revenueCents());
    }
    sessions.computeIfAbsent(e.userId(), k -> new Times()).add(ts << 1 | (e.isPurchase() ? 1 : 0));
  }

  long read() {
    return read;
  }

  long parsed() {
    return parsed;
  }

  long deadLettered() {
    return read - parsed;
  }

  long duplicates() {
    return parsed - accepted;
  }

  long accepted() {
    return accepted;
  }

  /** The rows of every view, in {@link Views#all()} order (rows in no particular order). */
  Map<ViewDefinition, List<Row>> rows() {
    Map<ViewDefinition, List<Row>> out = new LinkedHashMap<>();
    out.put(Views.ACTIVITY_PER_MINUTE, activityRows());
    out.put(Views.ITEM_REVENUE_HOURLY, itemRows());
    out.put(Views.USER_SESSIONS, sessionRows());
    return out;
  }

  private List<Row> activityRows() {
    List<Row> rows = new ArrayList<>(activity.size());
    for (Map.Entry<ActivityKey, ActivityAgg> e : activity.entrySet()) {
      ActivityAgg a = e.getValue();
      rows.add(
          Row.withSchema(Views.ACTIVITY_PER_MINUTE.schema())
              .addValues(
                  new Instant(e.getKey().window()),
                  e.getKey().type().json(),
                  a.events,
                  (long) a.users.size(),
                  a.revenue)
              .build());
    }
    return rows;
  }

  private List<Row> itemRows() {
    List<Row> rows = new ArrayList<>(items.size());
    for (Map.Entry<ItemKey, long[]> e : items.entrySet()) {
      rows.add(
          Row.withSchema(Views.ITEM_REVENUE_HOURLY.schema())
              .addValues(
                  new Instant(e.getKey().window()),
                  e.getKey().item(),
                  e.getValue()[0],
                  e.getValue()[1])
              .build());
    }
    return rows;
  }

  /**
   * Beam's {@code Sessions}: each event opens {@code [ts, ts + gap)}, overlapping windows merge, so
   * a gap of exactly the session gap splits. Sorting the packed longs sorts by time.
   */
  private List<Row> sessionRows() {
    List<Row> rows = new ArrayList<>();
    for (Map.Entry<String, Times> e : sessions.entrySet()) {
      long[] v = Arrays.copyOf(e.getValue().values, e.getValue().size);
      Arrays.sort(v);
      long first = v[0] >> 1;
      long last = first;
      long count = 0;
      long bought = 0;
      for (long packed : v) {
        long ts = packed >> 1;
        if (count > 0 && ts - last >= sessionGap) {
          rows.add(sessionRow(e.getKey(), first, last, count, bought));
          first = ts;
          count = 0;
          bought = 0;
        }
        last = ts;
        count++;
        bought += packed & 1;
      }
      rows.add(sessionRow(e.getKey(), first, last, count, bought));
    }
    return rows;
  }

  private static Row sessionRow(String user, long first, long last, long events, long purchases) {
    return Row.withSchema(Views.USER_SESSIONS.schema())
        .addValues(user, new Instant(first), new Instant(last), events, purchases)
        .build();
  }
}
