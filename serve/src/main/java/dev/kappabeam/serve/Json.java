package dev.kappabeam.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import org.apache.beam.sdk.schemas.Schema;

/** JSON output of the API: maps, lists, strings, numbers; times as ISO-8601 UTC strings. */
final class Json {
  private static final ObjectMapper MAPPER =
      new ObjectMapper().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

  private Json() {}

  static byte[] write(Object value) {
    try {
      return MAPPER.writeValueAsBytes(value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code 2026-11-25T10:00:00Z}, with milliseconds when they are not 0; null stays null. */
  static String time(Instant t) {
    return t == null ? null : DateTimeFormatter.ISO_INSTANT.format(t);
  }

  /** The JSON-level type of a view column: {@code timestamp}, {@code integer} or {@code string}. */
  static String typeName(Schema.Field f) {
    Schema.TypeName t = f.getType().getTypeName();
    if (t == Schema.TypeName.DATETIME) {
      return "timestamp";
    }
    if (t.isNumericType()) {
      return t == Schema.TypeName.DOUBLE || t == Schema.TypeName.FLOAT ? "number" : "integer";
    }
    return t == Schema.TypeName.BOOLEAN ? "boolean" : "string";
  }
}
