package dev.kappabeam.serving;

import dev.kappabeam.transforms.events.EventJson;
import dev.kappabeam.transforms.views.ViewDefinition;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.beam.sdk.values.Row;
import org.joda.time.ReadableInstant;

/**
 * The rows in which two versions of one view differ, matched by key: rows only in A, rows only in
 * B, and rows whose key is in both but whose values differ.
 *
 * <p>Made by {@link ViewStore#diff} from two stored versions, or by {@link #compare} from rows in
 * memory (for example a stored version against {@code ViewTable} rows of a fresh bounded run), so
 * both comparisons mean the same thing. Timestamps compare by instant. Every list is sorted by key
 * as {@code ViewTable.rows()} sorts.
 *
 * <pre>{@code
 * ViewDiff d = store.diff(Views.USER_SESSIONS, "v1", "v2");
 * if (!d.isEmpty()) {
 *   System.out.print(d.format("v1", "v2"));
 * }
 * }</pre>
 */
public final class ViewDiff {

  /**
   * A key present in both versions with different values.
   *
   * @param key the key values, in {@link ViewDefinition#keyColumns()} order
   * @param a the row in A
   * @param b the row in B
   */
  public record Changed(List<Object> key, Row a, Row b) {}

  private final ViewDefinition view;
  private final List<Row> onlyInA;
  private final List<Row> onlyInB;
  private final List<Changed> changed;

  private ViewDiff(
      ViewDefinition view, List<Row> onlyInA, List<Row> onlyInB, List<Changed> changed) {
    this.view = view;
    this.onlyInA = List.copyOf(onlyInA);
    this.onlyInB = List.copyOf(onlyInB);
    this.changed = List.copyOf(changed);
  }

  /**
   * Compares two sets of rows of {@code view} by key. Each list must hold at most one row per key
   * (a materialised view, e.g. {@code ViewTable.rows()} or {@link ViewStore#readAll}, not raw
   * panes); their order does not matter.
   */
  public static ViewDiff compare(ViewDefinition view, List<Row> a, List<Row> b) {
    Map<List<Object>, Row> byKeyA = byKey(view, a, "A");
    Map<List<Object>, Row> byKeyB = byKey(view, b, "B");
    List<Row> onlyA = new ArrayList<>();
    List<Row> onlyB = new ArrayList<>();
    List<Changed> changed = new ArrayList<>();
    for (Map.Entry<List<Object>, Row> e : byKeyA.entrySet()) {
      Row other = byKeyB.get(e.getKey());
      if (other == null) {
        onlyA.add(e.getValue());
      } else if (!RowValues.sameValues(view, e.getValue(), other)) {
        changed.add(new Changed(e.getKey(), e.getValue(), other));
      }
    }
    for (Map.Entry<List<Object>, Row> e : byKeyB.entrySet()) {
      if (!byKeyA.containsKey(e.getKey())) {
        onlyB.add(e.getValue());
      }
    }
    onlyA.sort(RowValues.byKey(view));
    onlyB.sort(RowValues.byKey(view));
    changed.sort((x, y) -> RowValues.compareKeys(x.key(), y.key()));
    return new ViewDiff(view, onlyA, onlyB, changed);
  }

  private static Map<List<Object>, Row> byKey(ViewDefinition view, List<Row> rows, String side) {
    Map<List<Object>, Row> out = new HashMap<>();
    for (Row r : rows) {
      if (out.put(view.key(r), r) != null) {
        throw new IllegalArgumentException(
            "rows "
                + side
                + " of "
                + view.name()
                + " hold key "
                + renderKey(view, view.key(r))
                + " more than once; compare materialised views (apply panes through ViewTable or"
                + " a ViewStore first), not raw panes");
      }
    }
    return out;
  }

  public ViewDefinition view() {
    return view;
  }

  /** Rows whose key is only in A, sorted by key. */
  public List<Row> onlyInA() {
    return onlyInA;
  }

  /** Rows whose key is only in B, sorted by key. */
  public List<Row> onlyInB() {
    return onlyInB;
  }

  /** Keys in both with different values, sorted by key. */
  public List<Changed> changed() {
    return changed;
  }

  /** True if A and B hold exactly the same rows. */
  public boolean isEmpty() {
    return onlyInA.isEmpty() && onlyInB.isEmpty() && changed.isEmpty();
  }

  /** The number of differing keys. */
  public int size() {
    return onlyInA.size() + onlyInB.size() + changed.size();
  }

  /**
   * The differences for a person, one line per differing key after a summary line, with A and B
   * called {@code nameA} and {@code nameB}; strings are shown JSON-quoted, timestamps in ISO-8601
   * UTC. For example:
   *
   * <pre>
   * activity_per_minute: v1 vs v2: 1 only in v1, 0 only in v2, 1 changed
   *   only in v1: window_start=2026-11-25T10:00:00.000Z, type="view", events=3, ...
   *   changed: window_start=2026-11-25T10:01:00.000Z, type="click": events 2 -&gt; 3
   * </pre>
   */
  public String format(String nameA, String nameB) {
    StringBuilder s = new StringBuilder();
    s.append(view.name()).append(": ").append(nameA).append(" vs ").append(nameB).append(": ");
    if (isEmpty()) {
      return s.append("no differences\n").toString();
    }
    s.append(onlyInA.size())
        .append(" only in ")
        .append(nameA)
        .append(", ")
        .append(onlyInB.size())
        .append(" only in ")
        .append(nameB)
        .append(", ")
        .append(changed.size())
        .append(" changed\n");
    for (Row r : onlyInA) {
      s.append("  only in ").append(nameA).append(": ").append(renderRow(r)).append('\n');
    }
    for (Row r : onlyInB) {
      s.append("  only in ").append(nameB).append(": ").append(renderRow(r)).append('\n');
    }
    for (Changed c : changed) {
      s.append("  changed: ").append(renderKey(view, c.key())).append(": ");
      List<String> parts = new ArrayList<>();
      for (String column : view.schema().getFieldNames()) {
        Object va = c.a().getValue(column);
        Object vb = c.b().getValue(column);
        if (!RowValues.sameValue(va, vb)) {
          parts.add(column + " " + render(va) + " -> " + render(vb));
        }
      }
      s.append(String.join(", ", parts)).append('\n');
    }
    return s.toString();
  }

  /** {@link #format(String, String)} with the sides called A and B. */
  @Override
  public String toString() {
    return format("A", "B");
  }

  private String renderRow(Row r) {
    return view.schema().getFieldNames().stream()
        .map(c -> c + "=" + render(r.getValue(c)))
        .collect(Collectors.joining(", "));
  }

  private static String renderKey(ViewDefinition view, List<Object> key) {
    List<String> parts = new ArrayList<>();
    for (int i = 0; i < key.size(); i++) {
      parts.add(view.keyColumns().get(i) + "=" + render(key.get(i)));
    }
    return String.join(", ", parts);
  }

  private static String render(Object v) {
    if (v instanceof ReadableInstant) {
      return RowValues.iso((ReadableInstant) v);
    }
    if (v instanceof String) {
      return EventJson.quote((String) v);
    }
    return String.valueOf(v);
  }
}
