package dev.kappabeam.transforms.views;

import java.io.Serializable;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Instant;

/**
 * What a view's rows look like and how a sink must apply them.
 *
 * <p>Each view emits {@link Row}s of {@link #schema()} (columns in contract order). Rows are
 * accumulating panes: a later pane for the same key carries the full answer so far, so a sink
 * upserts by {@link #keyColumns()}. The order in which panes reach a sink is not guaranteed, so the
 * apply rule is order-independent ({@link #supersedes(Row, Row)}): a row replaces another if it
 * covers at least the same events. For session views that is also how a session merged by a late
 * event removes the rows of the sessions it replaced: every older row of the same user whose span
 * lies inside the merged session's span is superseded.
 */
public final class ViewDefinition implements Serializable {

  /** How rows of a view replace each other. */
  public enum Kind {
    /** One row per key; the row with the larger {@link #progressColumn()} wins. */
    KEYED,
    /**
     * Session rows: a row supersedes every row of the same {@link #partitionColumn()} whose [start,
     * end] span lies within its own (and, for the same span, has no more events).
     */
    SESSION
  }

  /**
   * How a column of two partial rows of one key (a Lambda batch row and a speed row) merges into
   * the row over both: {@link #SUM} for counts and sums (INT64), {@link #MIN} or {@link #MAX} for
   * an earliest or latest value (INT64, DATETIME or STRING).
   */
  public enum Merge {
    SUM,
    MIN,
    MAX
  }

  private final String name;
  private final Schema schema;
  private final List<String> keyColumns;
  private final Kind kind;
  private final String progressColumn;
  private final Map<String, Merge> merges;

  ViewDefinition(
      String name, Schema schema, List<String> keyColumns, Kind kind, String progressColumn) {
    this(name, schema, keyColumns, kind, progressColumn, Map.of());
  }

  private ViewDefinition(
      String name,
      Schema schema,
      List<String> keyColumns,
      Kind kind,
      String progressColumn,
      Map<String, Merge> merges) {
    this.name = name;
    this.schema = schema;
    this.keyColumns = List.copyOf(keyColumns);
    this.kind = kind;
    this.progressColumn = progressColumn;
    this.merges = Collections.unmodifiableMap(new LinkedHashMap<>(merges));
    for (String k : keyColumns) {
      if (!schema.hasField(k)) {
        throw new IllegalArgumentException(name + ": key column " + k + " not in schema");
      }
    }
  }

  /**
   * A view with one row per key ({@link Kind#KEYED}): the row whose {@code progressColumn} is
   * larger wins. For a team's own views ({@link ViewSpec}).
   *
   * @param name lower-case letters, digits and single underscores, at most {@value
   *     #MAX_NAME_LENGTH} characters (the base of the view's table names)
   * @param schema the row's columns, in the order of the contract; names as for {@code name}
   * @param keyColumns the columns that identify a row (the upsert key), usually the window start
   *     and the view's key
   * @param progressColumn an INT64 column that never decreases from one pane of a key to the next:
   *     a count of the events in the row, so at least 1 (a pane whose progress is 0 aggregates no
   *     event and is not output)
   */
  public static ViewDefinition keyed(
      String name, Schema schema, List<String> keyColumns, String progressColumn) {
    return checked(name, schema, keyColumns, Kind.KEYED, progressColumn);
  }

  /**
   * A session view ({@link Kind#SESSION}): {@code keyColumns} are the column that groups sessions
   * (the key) and the session's first event time, and the schema has a DATETIME column {@code
   * session_end} (its last event time); a session merged by a late event supersedes the rows of the
   * sessions it spans.
   */
  public static ViewDefinition sessions(
      String name, Schema schema, String partitionColumn, String startColumn, String progress) {
    ViewDefinition v =
        checked(name, schema, List.of(partitionColumn, startColumn), Kind.SESSION, progress);
    for (String time : List.of(startColumn, v.spanEndColumn())) {
      if (!schema.hasField(time)
          || schema.getField(time).getType().getTypeName() != Schema.TypeName.DATETIME) {
        throw new IllegalArgumentException(
            "session view " + name + " needs a DATETIME column " + time + " in its schema");
      }
    }
    return v;
  }

  /** Longest view name: its tables are named {@code <name>__<version>}. */
  public static final int MAX_NAME_LENGTH = 40;

  private static final java.util.regex.Pattern IDENTIFIER =
      java.util.regex.Pattern.compile("[a-z][a-z0-9]*(_[a-z0-9]+)*");

  private static ViewDefinition checked(
      String name, Schema schema, List<String> keyColumns, Kind kind, String progressColumn) {
    Objects.requireNonNull(schema, "schema");
    if (name == null || name.length() > MAX_NAME_LENGTH || !IDENTIFIER.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "invalid view name '"
              + name
              + "': lower-case letters, digits and single underscores, starting with a letter, at"
              + " most "
              + MAX_NAME_LENGTH
              + " characters");
    }
    for (Schema.Field f : schema.getFields()) {
      if (!IDENTIFIER.matcher(f.getName()).matches()) {
        throw new IllegalArgumentException(
            "view " + name + ": invalid column name '" + f.getName() + "' (as for view names)");
      }
    }
    if (keyColumns.isEmpty()) {
      throw new IllegalArgumentException("view " + name + " needs at least one key column");
    }
    if (!schema.hasField(progressColumn)
        || schema.getField(progressColumn).getType().getTypeName() != Schema.TypeName.INT64) {
      throw new IllegalArgumentException(
          "view " + name + ": progress column " + progressColumn + " must be an INT64 column");
    }
    return new ViewDefinition(name, schema, keyColumns, kind, progressColumn);
  }

  /**
   * The same view, mergeable for Lambda: how each column outside the key merges (for a session
   * view, outside the grouping column and the span, which merge as sessions do: joined when their
   * gap is under the session gap, the span the union). Every such column needs a rule; with them
   * {@code kb batch} and {@code kb speed} build the view, and the merged read is exact when each
   * rule is (a count of distinct values is not: leave such a view without rules).
   */
  public ViewDefinition mergedBy(Map<String, Merge> rules) {
    List<String> fixed = new java.util.ArrayList<>(keyColumns);
    if (kind == Kind.SESSION) {
      fixed.add(spanEndColumn());
    }
    for (Schema.Field f : schema.getFields()) {
      String c = f.getName();
      Merge rule = rules.get(c);
      if (fixed.contains(c)) {
        if (rule != null) {
          throw new IllegalArgumentException(
              name + ": " + c + " is a key or span column; it has no merge rule of its own");
        }
        continue;
      }
      if (rule == null) {
        throw new IllegalArgumentException(
            name + ": column " + c + " needs a merge rule (SUM, MIN or MAX)");
      }
      Schema.TypeName t = f.getType().getTypeName();
      boolean ok =
          rule == Merge.SUM
              ? t == Schema.TypeName.INT64
              : t == Schema.TypeName.INT64
                  || t == Schema.TypeName.DATETIME
                  || t == Schema.TypeName.STRING;
      if (!ok) {
        throw new IllegalArgumentException(
            name + ": " + rule + " does not merge column " + c + " of type " + t);
      }
    }
    for (String c : rules.keySet()) {
      if (!schema.hasField(c)) {
        throw new IllegalArgumentException(name + ": merge rule for unknown column " + c);
      }
    }
    Map<String, Merge> ordered = new LinkedHashMap<>();
    for (Schema.Field f : schema.getFields()) {
      if (rules.containsKey(f.getName())) {
        ordered.put(f.getName(), rules.get(f.getName()));
      }
    }
    return new ViewDefinition(name, schema, keyColumns, kind, progressColumn, ordered);
  }

  /** How each column merges for Lambda, in schema order; empty when the view has no merge rules. */
  public Optional<Map<String, Merge>> mergeRules() {
    return merges.isEmpty() ? Optional.empty() : Optional.of(merges);
  }

  /** The view's name, e.g. {@code activity_per_minute}; also the base of its table names. */
  public String name() {
    return name;
  }

  /** The columns, in the order of the contract. */
  public Schema schema() {
    return schema;
  }

  /** The columns that identify a row (the upsert key). */
  public List<String> keyColumns() {
    return keyColumns;
  }

  public Kind kind() {
    return kind;
  }

  /**
   * A count column that never decreases from one pane of a key to the next ({@code events} or
   * {@code purchases}); the sink keeps the row with the larger value, so a stale pane that arrives
   * late cannot overwrite a newer one.
   */
  public String progressColumn() {
    return progressColumn;
  }

  /** For {@link Kind#SESSION}: the column that groups sessions (the user). */
  public String partitionColumn() {
    return keyColumns.get(0);
  }

  /** For {@link Kind#SESSION}: the session's first event time. */
  public String spanStartColumn() {
    return keyColumns.get(1);
  }

  /** For {@link Kind#SESSION}: the session's last event time. */
  public String spanEndColumn() {
    return "session_end";
  }

  /**
   * The column that tells how far in event time a row reaches: a session's end, else the first
   * DATETIME key column (a window's start); empty for a view without one (a global-window view).
   */
  public Optional<String> timeColumn() {
    if (kind == Kind.SESSION) {
      return Optional.of(spanEndColumn());
    }
    return keyColumns.stream()
        .filter(k -> schema.getField(k).getType().getTypeName() == Schema.TypeName.DATETIME)
        .findFirst();
  }

  /** The key of a row, as a list of column values in {@link #keyColumns()} order. */
  public List<Object> key(Row row) {
    Object[] k = new Object[keyColumns.size()];
    for (int i = 0; i < k.length; i++) {
      k[i] = normalize(row.getValue(keyColumns.get(i)));
    }
    return List.of(k);
  }

  /**
   * True if a sink holding {@code older} must drop it in favour of {@code newer}. Two rows that do
   * not supersede each other both stay.
   */
  public boolean supersedes(Row newer, Row older) {
    long newProgress = progress(newer);
    long oldProgress = progress(older);
    switch (kind) {
      case KEYED:
        return key(newer).equals(key(older)) && newProgress > oldProgress;
      case SESSION:
        if (!Objects.equals(newer.getValue(partitionColumn()), older.getValue(partitionColumn()))) {
          return false;
        }
        long ns = millis(newer, spanStartColumn());
        long ne = millis(newer, spanEndColumn());
        long os = millis(older, spanStartColumn());
        long oe = millis(older, spanEndColumn());
        boolean contains = ns <= os && oe <= ne;
        boolean sameSpan = ns == os && ne == oe;
        return contains && (!sameSpan || newProgress > oldProgress);
      default:
        throw new IllegalStateException(kind.toString());
    }
  }

  /** The value of {@link #progressColumn()}. */
  public long progress(Row row) {
    return row.getInt64(progressColumn);
  }

  private static long millis(Row row, String column) {
    return ((org.joda.time.ReadableInstant) row.getValue(column)).getMillis();
  }

  private static Object normalize(Object v) {
    return v instanceof org.joda.time.ReadableInstant
        ? new Instant(((org.joda.time.ReadableInstant) v).getMillis())
        : v;
  }

  @Override
  public String toString() {
    return name;
  }
}
