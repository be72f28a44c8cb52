package dev.kappabeam.serve;

import dev.kappabeam.transforms.views.ViewDefinition;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.beam.sdk.schemas.Schema;

/**
 * A read of a view's live alias, parsed and validated from the query string of {@code GET
 * /api/views/{view}}: a window range on the view's time column, a key, and either top-N by a
 * numeric column or the rows in key order, with a row limit.
 *
 * <p>Parameters: {@code from} (inclusive) and {@code to} (exclusive), ISO-8601 instants such as
 * {@code 2026-11-25T10:00:00Z} (an offset other than Z is converted; a plain date means its
 * midnight UTC), compared with {@code window_start}, or {@code session_start} for {@code
 * user_sessions}; {@code key}, an exact value of the view's key column ({@code type}, {@code item}
 * or {@code user_id}); {@code top} and {@code by}: the {@code top} rows with the largest {@code by}
 * (a numeric column; default the view's progress column), ties in key order; {@code limit}: at most
 * this many rows (default {@value #DEFAULT_LIMIT}, at most {@value #MAX_LIMIT}). Anything else is a
 * 400 with a message naming the valid choices.
 */
final class LiveViewQuery {
  static final int DEFAULT_LIMIT = 1000;
  static final int MAX_LIMIT = 10_000;

  private static final Set<String> PARAMETERS = Set.of("from", "to", "key", "top", "by", "limit");

  final ViewDefinition view;
  final Instant from;
  final Instant to;
  final String key;
  final String by;
  final int limit;
  final boolean top;

  private LiveViewQuery(
      ViewDefinition view,
      Instant from,
      Instant to,
      String key,
      String by,
      int limit,
      boolean top) {
    this.view = view;
    this.from = from;
    this.to = to;
    this.key = key;
    this.by = by;
    this.limit = limit;
    this.top = top;
  }

  /**
   * The view's time column: a session's start, else its first DATETIME key column ({@code
   * window_start}); null for a view without one (a global-window view).
   */
  static String timeColumn(ViewDefinition view) {
    return view.kind() == ViewDefinition.Kind.SESSION
        ? view.spanStartColumn()
        : view.timeColumn().orElse(null);
  }

  /** The view's first key column other than time: {@code type}, {@code item} or {@code user_id}. */
  static String keyColumn(ViewDefinition view) {
    String time = timeColumn(view);
    return view.keyColumns().stream().filter(c -> !c.equals(time)).findFirst().orElse(null);
  }

  /** The columns that {@code by} may name: the numeric ones. */
  static List<String> numericColumns(ViewDefinition view) {
    List<String> out = new ArrayList<>();
    for (Schema.Field f : view.schema().getFields()) {
      if (f.getType().getTypeName().isNumericType()) {
        out.add(f.getName());
      }
    }
    return out;
  }

  static LiveViewQuery parse(ViewDefinition view, Map<String, String> params) {
    for (String name : params.keySet()) {
      if (!PARAMETERS.contains(name)) {
        throw ApiException.badRequest(
            "unknown parameter '"
                + name
                + "'; use "
                + PARAMETERS.stream().sorted().collect(Collectors.joining(", ")));
      }
    }
    Instant from = time(params.get("from"), "from");
    Instant to = time(params.get("to"), "to");
    if ((from != null || to != null) && timeColumn(view) == null) {
      throw ApiException.badRequest(
          "view "
              + view.name()
              + " has no time column (one window over the whole log): no from/to");
    }
    if (from != null && to != null && !from.isBefore(to)) {
      throw ApiException.badRequest(
          "from (" + from + ") must be before to (" + to + "): the range is [from, to)");
    }
    String key = params.get("key");
    if (key != null && key.isEmpty()) {
      throw ApiException.badRequest("key must not be empty");
    }
    if (key != null && keyColumn(view) == null) {
      throw ApiException.badRequest("view " + view.name() + " has no key column besides its time");
    }
    Integer topN = count(params.get("top"), "top");
    String by = params.get("by");
    List<String> numeric = numericColumns(view);
    if (by != null && !numeric.contains(by)) {
      throw ApiException.badRequest(
          (view.schema().hasField(by)
                  ? "column '" + by + "' is not numeric"
                  : "unknown column '" + by + "'")
              + " for by= on view "
              + view.name()
              + "; use one of "
              + String.join(", ", numeric));
    }
    Integer limit = count(params.get("limit"), "limit");
    boolean top = topN != null || by != null;
    int n =
        Math.min(topN == null ? Integer.MAX_VALUE : topN, limit == null ? DEFAULT_LIMIT : limit);
    return new LiveViewQuery(view, from, to, key, by == null ? view.progressColumn() : by, n, top);
  }

  private static Instant time(String text, String name) {
    if (text == null) {
      return null;
    }
    try {
      return OffsetDateTime.parse(text).toInstant();
    } catch (DateTimeParseException e) {
      try {
        return LocalDate.parse(text).atStartOfDay(ZoneOffset.UTC).toInstant();
      } catch (DateTimeException e2) {
        throw ApiException.badRequest(
            name
                + "='"
                + text
                + "' is not an ISO-8601 time; use e.g. 2026-11-25T10:00:00Z (UTC) or"
                + " 2026-11-25T11:00:00+01:00");
      }
    }
  }

  /** A {@code limit} parameter: {@value #DEFAULT_LIMIT} when absent. */
  static int limit(String text) {
    Integer n = count(text, "limit");
    return n == null ? DEFAULT_LIMIT : n;
  }

  private static Integer count(String text, String name) {
    if (text == null) {
      return null;
    }
    int n;
    try {
      n = Integer.parseInt(text);
    } catch (NumberFormatException e) {
      throw ApiException.badRequest(name + "='" + text + "' is not a whole number");
    }
    if (n < 1 || n > MAX_LIMIT) {
      throw ApiException.badRequest(name + " must be between 1 and " + MAX_LIMIT + ", got " + n);
    }
    return n;
  }

  /** The SQL over the live alias; parameters in the order of {@link #parameters()}. */
  String sql() {
    List<String> columns = view.schema().getFieldNames();
    StringBuilder sql =
        new StringBuilder("SELECT ")
            .append(columns.stream().map(LiveViewQuery::q).collect(Collectors.joining(", ")))
            .append(" FROM ")
            .append(q(view.name()));
    List<String> where = new ArrayList<>();
    if (from != null) {
      where.add(q(timeColumn(view)) + " >= ?");
    }
    if (to != null) {
      where.add(q(timeColumn(view)) + " < ?");
    }
    if (key != null) {
      where.add(q(keyColumn(view)) + " = ?");
    }
    if (!where.isEmpty()) {
      sql.append(" WHERE ").append(String.join(" AND ", where));
    }
    List<String> order = new ArrayList<>();
    if (top) {
      order.add(q(by) + " DESC");
    }
    for (String k : view.keyColumns()) {
      order.add(q(k));
    }
    sql.append(" ORDER BY ").append(String.join(", ", order));
    // One more than asked, to tell the caller whether rows were cut off.
    sql.append(" LIMIT ").append(limit + 1L);
    return sql.toString();
  }

  /** The bind values of {@link #sql()}: UTC times and the key. */
  List<Object> parameters() {
    List<Object> out = new ArrayList<>();
    if (from != null) {
      out.add(from.atOffset(ZoneOffset.UTC));
    }
    if (to != null) {
      out.add(to.atOffset(ZoneOffset.UTC));
    }
    if (key != null) {
      out.add(key);
    }
    return out;
  }

  private static String q(String identifier) {
    return '"' + identifier + '"';
  }
}
