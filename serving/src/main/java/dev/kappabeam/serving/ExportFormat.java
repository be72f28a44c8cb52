package dev.kappabeam.serving;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.kappabeam.transforms.views.ViewDefinition;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.apache.beam.sdk.values.Row;
import org.joda.time.ReadableInstant;

/**
 * A text format that a view's rows can be exported in, by {@link ViewStore#export} or directly from
 * in-memory rows with {@link #write}.
 *
 * <p>Both formats write the view's columns in schema order, rows in the order given (the store
 * passes them sorted by key), timestamps as ISO-8601 UTC with milliseconds ({@code
 * 2026-11-25T10:01:00.000Z}), and other characters as they are (the {@link Writer} decides the
 * encoding; use UTF-8).
 */
public enum ExportFormat {
  /**
   * RFC 4180 CSV: a header line with the column names, then one record per row; records end with
   * CRLF; a field is enclosed in double quotes only if it contains a comma, a double quote, CR or
   * LF, and a double quote inside it is doubled. A null value is an empty field.
   */
  CSV {
    @Override
    void writeAll(ViewDefinition view, List<Row> rows, Writer out) throws IOException {
      List<String> columns = view.schema().getFieldNames();
      for (int i = 0; i < columns.size(); i++) {
        out.write(i == 0 ? "" : ",");
        out.write(csvField(columns.get(i)));
      }
      out.write("\r\n");
      for (Row row : rows) {
        for (int i = 0; i < columns.size(); i++) {
          out.write(i == 0 ? "" : ",");
          Object v = row.getValue(columns.get(i));
          out.write(v == null ? "" : csvField(text(v)));
        }
        out.write("\r\n");
      }
    }
  },

  /**
   * JSON Lines: one JSON object per row and line (LF), keys in column order; numbers and booleans
   * as JSON numbers and booleans, strings and timestamps as JSON strings, null as null.
   */
  JSONL {
    @Override
    void writeAll(ViewDefinition view, List<Row> rows, Writer out) throws IOException {
      List<String> columns = view.schema().getFieldNames();
      try (JsonGenerator json =
          JSON.createGenerator(out).disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET)) {
        json.setRootValueSeparator(null);
        for (Row row : rows) {
          json.writeStartObject();
          for (String column : columns) {
            json.writeFieldName(column);
            writeJsonValue(json, row.getValue(column));
          }
          json.writeEndObject();
          json.writeRaw('\n');
        }
      }
    }
  };

  private static final JsonFactory JSON = new JsonFactory();

  /** Writes {@code rows} of {@code view} to {@code out} (and flushes it, without closing it). */
  public void write(ViewDefinition view, List<Row> rows, Writer out) {
    try {
      writeAll(view, rows, out);
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + view.name() + " as " + this, e);
    }
  }

  abstract void writeAll(ViewDefinition view, List<Row> rows, Writer out) throws IOException;

  /** The format named {@code name} ({@code csv} or {@code jsonl}, any case). */
  public static ExportFormat parse(String name) {
    for (ExportFormat f : values()) {
      if (f.name().equalsIgnoreCase(name)) {
        return f;
      }
    }
    throw new IllegalArgumentException(
        "unknown export format '"
            + name
            + "'; use one of: "
            + Arrays.stream(values())
                .map(f -> f.name().toLowerCase(Locale.ROOT))
                .collect(Collectors.joining(", ")));
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }

  private static String text(Object v) {
    return v instanceof ReadableInstant ? RowValues.iso((ReadableInstant) v) : v.toString();
  }

  private static String csvField(String s) {
    boolean quote =
        s.indexOf(',') >= 0 || s.indexOf('"') >= 0 || s.indexOf('\r') >= 0 || s.indexOf('\n') >= 0;
    return quote ? '"' + s.replace("\"", "\"\"") + '"' : s;
  }

  private static void writeJsonValue(JsonGenerator json, Object v) throws IOException {
    if (v == null) {
      json.writeNull();
    } else if (v instanceof Long || v instanceof Integer || v instanceof Short) {
      json.writeNumber(((Number) v).longValue());
    } else if (v instanceof Double) {
      json.writeNumber((Double) v);
    } else if (v instanceof Boolean) {
      json.writeBoolean((Boolean) v);
    } else if (v instanceof ReadableInstant) {
      json.writeString(RowValues.iso((ReadableInstant) v));
    } else {
      json.writeString(v.toString());
    }
  }
}
