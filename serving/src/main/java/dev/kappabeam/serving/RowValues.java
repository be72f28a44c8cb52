package dev.kappabeam.serving;

import dev.kappabeam.transforms.views.ViewDefinition;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import org.apache.beam.sdk.values.Row;
import org.joda.time.ReadableInstant;

/** Comparing, ordering and printing view rows the same way everywhere in this package. */
final class RowValues {
  /** ISO-8601 in UTC with milliseconds, e.g. {@code 2026-11-25T10:01:00.000Z}. */
  static final DateTimeFormatter ISO_MILLIS =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  private RowValues() {}

  /** Orders rows by key exactly as {@code ViewTable.rows()} does (column by column, natural). */
  static Comparator<Row> byKey(ViewDefinition view) {
    return (a, b) -> compareKeys(view.key(a), view.key(b));
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

  /** True if both rows hold the same value in every column of the view's schema. */
  static boolean sameValues(ViewDefinition view, Row a, Row b) {
    for (String column : view.schema().getFieldNames()) {
      if (!sameValue(a.getValue(column), b.getValue(column))) {
        return false;
      }
    }
    return true;
  }

  static boolean sameValue(Object a, Object b) {
    if (a instanceof ReadableInstant && b instanceof ReadableInstant) {
      return ((ReadableInstant) a).getMillis() == ((ReadableInstant) b).getMillis();
    }
    return Objects.equals(a, b);
  }

  /** A timestamp as ISO-8601 UTC with milliseconds. */
  static String iso(ReadableInstant t) {
    return ISO_MILLIS.format(java.time.Instant.ofEpochMilli(t.getMillis()));
  }
}
