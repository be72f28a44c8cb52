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
import org.joda.time.ReadableInstant;

/**
 * The exact Lambda merge of a batch partial and a speed partial of one view, per key, with each
 * aggregate's own merge:
 *
 * <ul>
 *   <li>a keyed view with merge rules ({@link ViewDefinition#mergedBy}; {@code
 *       item_revenue_hourly}: purchases and revenue add): the rows of one key, column by column.
 *   <li>a session view with merge rules ({@code user_sessions}: events and purchases add): a key's
 *       sessions from both sides are joined when the gap between them is under the session gap
 *       (Beam's session windows [t, t + gap) overlap), transitively; the span is the union, the
 *       other columns merge by their rules.
 *   <li>{@code activity_per_minute}: events and revenue add; distinct_users is the size of the
 *       union of the two exact user sets (the {@link Views#USERS_COLUMN users} column of the
 *       partial rows), so a user active on both sides of the cutoff counts once: the one merge no
 *       column rule expresses.
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
    if (view.name().equals(Views.ACTIVITY_PER_MINUTE.name())) {
      out = mergeActivity(all);
    } else {
      Map<String, ViewDefinition.Merge> rules =
          view.mergeRules()
              .orElseThrow(
                  () ->
                      new IllegalArgumentException(
                          "view " + view.name() + " has no Lambda merge rules"));
      out =
          view.kind() == ViewDefinition.Kind.SESSION
              ? mergeSessions(view, rules, all, sessionGapMillis)
              : mergeKeyed(view, rules, all);
    }
    out.sort(RowValues.byKey(view));
    return out;
  }

  /** Rows of one key merged column by column with the view's rules. */
  private static List<Row> mergeKeyed(
      ViewDefinition view, Map<String, ViewDefinition.Merge> rules, List<Row> rows) {
    Map<List<Object>, Object[]> acc = new LinkedHashMap<>();
    for (Row r : rows) {
      Object[] merged = acc.get(view.key(r));
      if (merged == null) {
        acc.put(view.key(r), r.getValues().toArray());
      } else {
        mergeInto(view, rules, merged, r);
      }
    }
    List<Row> out = new ArrayList<>();
    for (Object[] values : acc.values()) {
      out.add(Row.withSchema(view.schema()).addValues(values).build());
    }
    return out;
  }

  /** Merges {@code r}'s ruled columns into {@code merged} (values in schema order). */
  private static void mergeInto(
      ViewDefinition view, Map<String, ViewDefinition.Merge> rules, Object[] merged, Row r) {
    List<String> names = view.schema().getFieldNames();
    for (int i = 0; i < names.size(); i++) {
      ViewDefinition.Merge rule = rules.get(names.get(i));
      if (rule != null) {
        merged[i] = merge(rule, merged[i], r.getValue(i));
      }
    }
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  static Object merge(ViewDefinition.Merge rule, Object a, Object b) {
    if (a == null || b == null) {
      return a == null ? b : a;
    }
    switch (rule) {
      case SUM:
        return Math.addExact((Long) a, (Long) b);
      case MIN:
        return compare(a, b) <= 0 ? a : b;
      default:
        return compare(a, b) >= 0 ? a : b;
    }
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static int compare(Object a, Object b) {
    if (a instanceof ReadableInstant) {
      return Long.compare(millis(a), millis(b));
    }
    return ((Comparable) a).compareTo(b);
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

  /**
   * Each key's sessions from both sides joined where their gap is under the session gap,
   * transitively: the span the union, the other columns merged by the view's rules.
   */
  private static List<Row> mergeSessions(
      ViewDefinition view, Map<String, ViewDefinition.Merge> rules, List<Row> rows, long gap) {
    String start = view.spanStartColumn();
    String end = view.spanEndColumn();
    int startAt = view.schema().indexOf(start);
    int endAt = view.schema().indexOf(end);
    Map<Object, List<Row>> byKey = new LinkedHashMap<>();
    for (Row r : rows) {
      byKey.computeIfAbsent(r.getValue(view.partitionColumn()), u -> new ArrayList<>()).add(r);
    }
    List<Row> out = new ArrayList<>();
    for (List<Row> sessions : byKey.values()) {
      sessions.sort(
          Comparator.<Row>comparingLong(r -> millis(r.getValue(start)))
              .thenComparingLong(r -> millis(r.getValue(end))));
      Object[] cur = null;
      for (Row s : sessions) {
        if (cur != null && joins(millis(cur[endAt]), millis(s.getValue(start)), gap)) {
          if (millis(s.getValue(end)) > millis(cur[endAt])) {
            cur[endAt] = s.getValue(end);
          }
          mergeInto(view, rules, cur, s);
        } else {
          if (cur != null) {
            out.add(Row.withSchema(view.schema()).addValues(cur).build());
          }
          cur = s.getValues().toArray();
        }
      }
      out.add(Row.withSchema(view.schema()).addValues(cur).build());
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
