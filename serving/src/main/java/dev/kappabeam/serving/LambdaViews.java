package dev.kappabeam.serving;

import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.Views;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Instant;
import org.joda.time.ReadableInstant;

/**
 * The exact Lambda merge of a batch partial and a speed partial of one view, per key, with each
 * aggregate's own merge:
 *
 * <ul>
 *   <li>{@code item_revenue_hourly}: purchases and revenue add.
 *   <li>{@code activity_per_minute}: events and revenue add; distinct_users is the size of the
 *       union of the two exact user sets (the {@link Views#USERS_COLUMN users} column of the
 *       partial rows), so a user active on both sides of the cutoff counts once.
 *   <li>{@code user_sessions}: a user's sessions from both sides are joined when the gap between
 *       them is under the session gap (Beam's session windows [t, t + gap) overlap), transitively;
 *       counts add, the span is the union.
 * </ul>
 *
 * <p>The batch partial covers the log before the cutoff and the speed partial the log from it, so
 * no event is in both and none in neither: the merge equals the view over the whole log. Pure
 * functions: {@link LambdaRegistry#read} feeds them the tables the live pointer names.
 */
public final class LambdaViews {
  private LambdaViews() {}

  /** Merges batch and speed partial rows into rows of the view's own schema, sorted by key. */
  public static List<Row> merge(
      ViewDefinition view, List<Row> batch, List<Row> speed, long sessionGapMillis) {
    List<Row> all = new ArrayList<>(batch);
    all.addAll(speed);
    List<Row> out;
    switch (view.name()) {
      case "activity_per_minute":
        out = mergeActivity(all);
        break;
      case "item_revenue_hourly":
        out = mergeKeyedSums(view, all, List.of("purchases", "revenue_cents"));
        break;
      case "user_sessions":
        out = mergeSessions(all, sessionGapMillis);
        break;
      default:
        throw new IllegalArgumentException("no Lambda merge for view " + view.name());
    }
    out.sort(RowValues.byKey(view));
    return out;
  }

  private static List<Row> mergeKeyedSums(ViewDefinition view, List<Row> rows, List<String> sums) {
    Map<List<Object>, long[]> acc = new LinkedHashMap<>();
    Map<List<Object>, Row> first = new LinkedHashMap<>();
    for (Row r : rows) {
      List<Object> key = view.key(r);
      long[] a = acc.computeIfAbsent(key, k -> new long[sums.size()]);
      for (int i = 0; i < sums.size(); i++) {
        a[i] = Math.addExact(a[i], r.getInt64(sums.get(i)));
      }
      first.putIfAbsent(key, r);
    }
    List<Row> out = new ArrayList<>();
    for (Map.Entry<List<Object>, long[]> e : acc.entrySet()) {
      Row.Builder b = Row.withSchema(view.schema());
      Row any = first.get(e.getKey());
      for (String col : view.schema().getFieldNames()) {
        int i = sums.indexOf(col);
        b.addValue(i >= 0 ? e.getValue()[i] : any.getValue(col));
      }
      out.add(b.build());
    }
    return out;
  }

  private static List<Row> mergeActivity(List<Row> rows) {
    ViewDefinition view = Views.ACTIVITY_PER_MINUTE;
    Map<List<Object>, long[]> sums = new LinkedHashMap<>();
    Map<List<Object>, Set<String>> users = new LinkedHashMap<>();
    for (Row r : rows) {
      List<Object> key = view.key(r);
      long[] a = sums.computeIfAbsent(key, k -> new long[2]);
      a[0] = Math.addExact(a[0], r.getInt64("events"));
      a[1] = Math.addExact(a[1], r.getInt64("revenue_cents"));
      Set<String> u = users.computeIfAbsent(key, k -> new TreeSet<>());
      List<String> set = parseUsers(r.getString(Views.USERS_COLUMN));
      if (set.size() != r.getInt64("distinct_users")) {
        throw new IllegalStateException(
            "activity_per_minute partial row " + key + ": users column does not match");
      }
      u.addAll(set);
    }
    List<Row> out = new ArrayList<>();
    for (Map.Entry<List<Object>, long[]> e : sums.entrySet()) {
      out.add(
          Row.withSchema(view.schema())
              .addValues(
                  e.getKey().get(0),
                  e.getKey().get(1),
                  e.getValue()[0],
                  (long) users.get(e.getKey()).size(),
                  e.getValue()[1])
              .build());
    }
    return out;
  }

  private static List<Row> mergeSessions(List<Row> rows, long gapMillis) {
    Map<String, List<long[]>> byUser = new LinkedHashMap<>();
    for (Row r : rows) {
      byUser
          .computeIfAbsent(r.getString("user_id"), u -> new ArrayList<>())
          .add(
              new long[] {
                millis(r.getValue("session_start")),
                millis(r.getValue("session_end")),
                r.getInt64("events"),
                r.getInt64("purchases")
              });
    }
    List<Row> out = new ArrayList<>();
    for (Map.Entry<String, List<long[]>> e : byUser.entrySet()) {
      List<long[]> sessions = e.getValue();
      sessions.sort(Comparator.<long[]>comparingLong(s -> s[0]).thenComparingLong(s -> s[1]));
      long[] cur = null;
      for (long[] s : sessions) {
        if (cur != null && joins(cur[1], s[0], gapMillis)) {
          cur[1] = Math.max(cur[1], s[1]);
          cur[2] += s[2];
          cur[3] += s[3];
        } else {
          if (cur != null) {
            out.add(sessionRow(e.getKey(), cur));
          }
          cur = s.clone();
        }
      }
      out.add(sessionRow(e.getKey(), cur));
    }
    return out;
  }

  /**
   * A session starting at {@code start} joins one whose events end at {@code end} when their
   * session windows [t, t + gap) overlap: {@code start < end + gap}.
   */
  static boolean joins(long end, long start, long gapMillis) {
    return start < end + gapMillis;
  }

  private static Row sessionRow(String user, long[] s) {
    return Row.withSchema(Views.USER_SESSIONS.schema())
        .addValues(user, new Instant(s[0]), new Instant(s[1]), s[2], s[3])
        .build();
  }

  private static long millis(Object v) {
    return ((ReadableInstant) v).getMillis();
  }

  /** Parses the JSON array of strings written by {@code Views.activityPerMinuteWithUsers}. */
  static List<String> parseUsers(String json) {
    List<String> out = new ArrayList<>();
    int i = skip(json, 0);
    expect(json, i++, '[');
    i = skip(json, i);
    if (i < json.length() && json.charAt(i) == ']') {
      return out;
    }
    while (true) {
      i = skip(json, i);
      expect(json, i++, '"');
      StringBuilder b = new StringBuilder();
      while (true) {
        char c = at(json, i++);
        if (c == '"') {
          break;
        }
        if (c == '\\') {
          char esc = at(json, i++);
          switch (esc) {
            case 'n':
              b.append('\n');
              break;
            case 'r':
              b.append('\r');
              break;
            case 't':
              b.append('\t');
              break;
            case 'b':
              b.append('\b');
              break;
            case 'f':
              b.append('\f');
              break;
            case 'u':
              b.append((char) Integer.parseInt(json.substring(i, i + 4), 16));
              i += 4;
              break;
            default:
              b.append(esc);
          }
        } else {
          b.append(c);
        }
      }
      out.add(b.toString());
      i = skip(json, i);
      char c = at(json, i++);
      if (c == ']') {
        return out;
      }
      if (c != ',') {
        throw new IllegalArgumentException("not a JSON array of strings: " + json);
      }
    }
  }

  private static int skip(String s, int i) {
    while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
      i++;
    }
    return i;
  }

  private static char at(String s, int i) {
    if (i >= s.length()) {
      throw new IllegalArgumentException("not a JSON array of strings: " + s);
    }
    return s.charAt(i);
  }

  private static void expect(String s, int i, char c) {
    if (at(s, i) != c) {
      throw new IllegalArgumentException("not a JSON array of strings: " + s);
    }
  }

  /** For messages. */
  static String names(List<ViewDefinition> views) {
    return views.stream().map(ViewDefinition::name).collect(Collectors.joining(", "));
  }
}
