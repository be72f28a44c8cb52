package dev.kappabeam.transforms.views;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.values.Row;

/**
 * An in-memory materialisation of one view: applies emitted rows exactly as a serving sink must
 * (see {@link ViewDefinition#supersedes(Row, Row)}), in any order, and lists the resulting rows
 * sorted by key. The reference for the JDBC sink, and how tests turn the panes of a run into the
 * final view.
 */
public final class ViewTable {
  private final ViewDefinition view;
  private final Map<List<Object>, Row> rows = new HashMap<>();

  public ViewTable(ViewDefinition view) {
    this.view = view;
  }

  public ViewDefinition view() {
    return view;
  }

  /** Applies one emitted row. Idempotent, and the end state does not depend on the order. */
  public void apply(Row row) {
    for (Row existing : rows.values()) {
      if (covers(existing, row)) {
        return;
      }
    }
    Iterator<Row> it = rows.values().iterator();
    while (it.hasNext()) {
      if (view.supersedes(row, it.next())) {
        it.remove();
      }
    }
    rows.put(view.key(row), row);
  }

  /** Applies rows in order. */
  public ViewTable applyAll(Iterable<Row> emitted) {
    for (Row r : emitted) {
      apply(r);
    }
    return this;
  }

  /** True if {@code existing} makes {@code candidate} redundant (same or larger coverage). */
  private boolean covers(Row existing, Row candidate) {
    if (view.supersedes(existing, candidate)) {
      return true;
    }
    // Same key, same progress: the same pane seen twice (a retried bundle); keep the first.
    return view.key(existing).equals(view.key(candidate))
        && view.progress(existing) >= view.progress(candidate);
  }

  /** The current rows, sorted by key. */
  public List<Row> rows() {
    List<Row> out = new ArrayList<>(rows.values());
    out.sort(Comparator.comparing(view::key, ViewTable::compareKeys));
    return out;
  }

  public int size() {
    return rows.size();
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  static int compareKeys(List<Object> a, List<Object> b) {
    for (int i = 0; i < a.size(); i++) {
      int c = ((Comparable) a.get(i)).compareTo(b.get(i));
      if (c != 0) {
        return c;
      }
    }
    return 0;
  }
}
