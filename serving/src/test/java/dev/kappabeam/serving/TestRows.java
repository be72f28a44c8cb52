package dev.kappabeam.serving;

import dev.kappabeam.transforms.views.Views;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Duration;
import org.joda.time.Instant;

/** Rows of the reference views for tests, and seeded generators of realistic pane sequences. */
final class TestRows {
  static final Instant T0 = Instant.parse("2026-11-25T10:00:00.000Z");
  private static final Duration GAP = Duration.standardMinutes(30);

  private TestRows() {}

  static Instant at(String iso) {
    return Instant.parse(iso);
  }

  static Row activity(Instant windowStart, String type, long events, long users, long revenue) {
    return Row.withSchema(Views.ACTIVITY_PER_MINUTE.schema())
        .addValues(windowStart, type, events, users, revenue)
        .build();
  }

  static Row item(Instant windowStart, String item, long purchases, long revenue) {
    return Row.withSchema(Views.ITEM_REVENUE_HOURLY.schema())
        .addValues(windowStart, item, purchases, revenue)
        .build();
  }

  static Row session(String user, Instant start, Instant end, long events, long purchases) {
    return Row.withSchema(Views.USER_SESSIONS.schema())
        .addValues(user, start, end, events, purchases)
        .build();
  }

  /**
   * Accumulating panes of activity_per_minute as a streaming run emits them: for each key a rising
   * sequence (early panes, on-time pane, late panes), every value a function of the event count so
   * two panes with the same count are equal; a few panes repeated (retried bundles).
   */
  static List<Row> activityPanes(long seed) {
    Random random = new Random(seed);
    String[] types = {"view", "click", "cart", "purchase"};
    List<Row> panes = new ArrayList<>();
    for (int minute = 0; minute < 4; minute++) {
      for (String type : types) {
        if (random.nextInt(5) == 0) {
          continue;
        }
        Instant w = T0.plus(Duration.standardMinutes(minute));
        long events = 0;
        int count = 1 + random.nextInt(4);
        for (int p = 0; p < count; p++) {
          events += 1 + random.nextInt(5);
          long revenue = type.equals("purchase") ? events * 1299 : 0;
          panes.add(activity(w, type, events, (events + 1) / 2, revenue));
        }
      }
    }
    addRepeats(panes, random);
    return panes;
  }

  /**
   * Panes of user_sessions as a streaming run with late data emits them: each user's events are
   * revealed one at a time in a random order, and after each reveal every session (30-minute gap)
   * that changed is emitted. Late events that fall between sessions merge them, so later panes
   * supersede several earlier ones. A few panes repeated.
   */
  static List<Row> sessionPanes(long seed) {
    Random random = new Random(seed);
    List<Row> panes = new ArrayList<>();
    for (int u = 0; u < 5; u++) {
      String user = "u-" + u;
      int n = 2 + random.nextInt(9);
      List<Long> times = new ArrayList<>();
      List<Boolean> purchases = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        // Spread over 3 hours at minute resolution, so gaps both shorter and longer than 30 min.
        times.add(T0.getMillis() + random.nextInt(180) * 60_000L + random.nextInt(2) * 999L);
        purchases.add(random.nextInt(4) == 0);
      }
      List<Integer> order = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        order.add(i);
      }
      Collections.shuffle(order, random);
      List<Row> previous = List.of();
      List<Integer> revealed = new ArrayList<>();
      for (int i : order) {
        revealed.add(i);
        List<Row> now = sessions(user, revealed, times, purchases);
        for (Row s : now) {
          if (!previous.contains(s)) {
            panes.add(s);
          }
        }
        previous = now;
      }
    }
    addRepeats(panes, random);
    return panes;
  }

  private static List<Row> sessions(
      String user, List<Integer> revealed, List<Long> times, List<Boolean> purchases) {
    TreeMap<Long, long[]> byTime = new TreeMap<>(); // time -> {events, purchases}
    for (int i : revealed) {
      long[] c = byTime.computeIfAbsent(times.get(i), t -> new long[2]);
      c[0]++;
      c[1] += purchases.get(i) ? 1 : 0;
    }
    List<Row> out = new ArrayList<>();
    Long start = null;
    long end = 0;
    long events = 0;
    long bought = 0;
    for (var e : byTime.entrySet()) {
      if (start != null && e.getKey() >= end + GAP.getMillis()) {
        out.add(session(user, new Instant(start), new Instant(end), events, bought));
        start = null;
      }
      if (start == null) {
        start = e.getKey();
        events = 0;
        bought = 0;
      }
      end = e.getKey();
      events += e.getValue()[0];
      bought += e.getValue()[1];
    }
    out.add(session(user, new Instant(start), new Instant(end), events, bought));
    return out;
  }

  private static void addRepeats(List<Row> panes, Random random) {
    int repeats = panes.size() / 5;
    for (int i = 0; i < repeats; i++) {
      panes.add(panes.get(random.nextInt(panes.size())));
    }
  }

  /** {@code rows} shuffled, then cut into batches of random sizes (1 to 7). */
  static List<List<Row>> shuffledBatches(List<Row> rows, Random random) {
    List<Row> shuffled = new ArrayList<>(rows);
    Collections.shuffle(shuffled, random);
    List<List<Row>> batches = new ArrayList<>();
    for (int from = 0; from < shuffled.size(); ) {
      int to = Math.min(shuffled.size(), from + 1 + random.nextInt(7));
      batches.add(List.copyOf(shuffled.subList(from, to)));
      from = to;
    }
    return batches;
  }
}
