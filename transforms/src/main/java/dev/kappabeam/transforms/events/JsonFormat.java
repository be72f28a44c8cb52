package dev.kappabeam.transforms.events;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.SchemaCoder;
import org.apache.beam.sdk.values.Row;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.joda.time.Instant;

/**
 * JSON records of a team's own shape, read by a field mapping into Beam {@link Row}s: which JSON
 * field (a dotted path into nested objects) fills which column, of which type, whether it is
 * required, which column is the event's id and which its event time. No code beyond the mapping:
 * views then select and key by column ({@code row.getString("currency")}).
 *
 * <pre>{@code
 * JsonFormat orders = JsonFormat.named("orders-json")
 *     .id("order_id")                      // a string column from the field order_id
 *     .eventTime("ts")                     // ISO-8601 with zone, or epoch milliseconds
 *     .string("customer_id", "customer.id") // from {"customer": {"id": ...}}
 *     .string("status")
 *     .int64("total_cents")
 *     .optionalString("coupon")
 *     .build();
 * }</pre>
 *
 * <p>Rules (anything else is a dead letter with the code in brackets): the value is at most {@value
 * EventParser#MAX_VALUE_BYTES} bytes of UTF-8 JSON holding one object, nested at most {@value
 * EventParser#MAX_NESTING_DEPTH} levels, without duplicate fields ({@code empty_record}, {@code
 * too_large}, {@code not_utf8}, {@code malformed_json}, {@code too_deep}, {@code not_an_object}); a
 * required field is present and not null ({@code missing_field}); a string column takes a JSON
 * string of at most {@value EventFormat#MAX_ID_BYTES} UTF-8 bytes ({@code wrong_type}, {@code
 * too_long}), an int64 column a JSON integer that fits 64 bits ({@code wrong_type}); the event time
 * is ISO-8601 with {@code Z} or an offset, or epoch milliseconds as an integer or a string of
 * digits, from 1970 to 9999 ({@code invalid_timestamp}). Unknown fields are ignored. The event-time
 * column is a DATETIME; an absent optional column is null.
 */
public final class JsonFormat implements EventFormat<Row> {
  private static final long serialVersionUID = 1L;
  private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9]*([-_][a-z0-9]+)*");

  private enum Type {
    STRING,
    INT64,
    TIME
  }

  /** One column: its JSON path, type and whether it is required. */
  private static final class Column implements Serializable {
    final String name;
    final String path;
    final Type type;
    final boolean required;

    Column(String name, String path, Type type, boolean required) {
      this.name = name;
      this.path = path;
      this.type = type;
      this.required = required;
    }
  }

  private final String name;
  private final List<Column> columns;
  private final List<String> idColumns;
  private final String timeColumn;
  private final Schema schema;
  private transient @Nullable JsonFactory json;
  private transient @Nullable Map<String, Integer> byPath;

  private JsonFormat(String name, List<Column> columns, List<String> idColumns, String timeColumn) {
    this.name = name;
    this.columns = List.copyOf(columns);
    this.idColumns = List.copyOf(idColumns);
    this.timeColumn = timeColumn;
    Schema.Builder b = Schema.builder();
    for (Column c : columns) {
      Schema.FieldType t =
          c.type == Type.STRING
              ? Schema.FieldType.STRING
              : c.type == Type.INT64 ? Schema.FieldType.INT64 : Schema.FieldType.DATETIME;
      b.addField(Schema.Field.of(c.name, t).withNullable(!c.required));
    }
    this.schema = b.build();
  }

  /** Starts a mapping; {@code name} names the format in messages (lower-case, '-' or '_'). */
  public static Builder named(String name) {
    return new Builder(name);
  }

  /** The columns of the events, in the order declared. */
  public Schema schema() {
    return schema;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Coder<Row> coder() {
    return SchemaCoder.of(schema);
  }

  /** The id column's value, or the id columns' values joined by '/'. */
  @Override
  public String id(Row event) {
    if (idColumns.size() == 1) {
      return String.valueOf(event.getValue(idColumns.get(0)));
    }
    StringBuilder b = new StringBuilder();
    for (String c : idColumns) {
      if (b.length() > 0) {
        b.append('/');
      }
      b.append((Object) event.getValue(c));
    }
    return b.toString();
  }

  @Override
  public long eventTimeMillis(Row event) {
    return Objects.requireNonNull(event.getDateTime(timeColumn), timeColumn).getMillis();
  }

  /** The event as a flat JSON object of its columns (paths become column names). */
  @Override
  public byte[] toBytes(Row event) {
    StringBuilder b = new StringBuilder(128).append('{');
    for (Column c : columns) {
      Object v = event.getValue(c.name);
      if (v == null) {
        continue;
      }
      if (b.length() > 1) {
        b.append(',');
      }
      b.append(EventJson.quote(c.name)).append(':');
      switch (c.type) {
        case STRING:
          b.append(EventJson.quote((String) v));
          break;
        case INT64:
          b.append((long) (Long) v);
          break;
        default:
          b.append(
              EventJson.quote(
                  java.time.Instant.ofEpochMilli(((org.joda.time.ReadableInstant) v).getMillis())
                      .toString()));
      }
    }
    return b.append('}').toString().getBytes(StandardCharsets.UTF_8);
  }

  /** The same format reading the flat JSON that {@link #toBytes} writes (the late topic's). */
  public JsonFormat flat() {
    List<Column> flat = new ArrayList<>();
    for (Column c : columns) {
      flat.add(new Column(c.name, c.name, c.type, c.required));
    }
    return new JsonFormat(name, flat, idColumns, timeColumn);
  }

  @Override
  public Parsed<Row> parse(byte @Nullable [] value) {
    Parsed<Event> rejected = EventParser.precheck(value);
    if (rejected != null) {
      return Parsed.rejected(rejected.code(), rejected.detail());
    }
    Object[] values = new Object[columns.size()];
    try (JsonParser p = factory().createParser(value)) {
      JsonToken first = p.nextToken();
      if (first == null) {
        return Parsed.rejected("malformed_json", "no JSON value (blank record)");
      }
      if (first != JsonToken.START_OBJECT) {
        p.skipChildren();
        if (p.nextToken() != null) {
          return Parsed.rejected("malformed_json", "trailing data after the JSON value");
        }
        return Parsed.rejected(
            "not_an_object", "expected a JSON object, got " + EventParser.kind(first));
      }
      Parsed<Row> wrong = readObject(p, "", values);
      if (wrong != null) {
        return wrong;
      }
      if (p.nextToken() != null) {
        return Parsed.rejected("malformed_json", "trailing data after the JSON object");
      }
    } catch (StreamConstraintsException e) {
      return Parsed.rejected(
          "too_deep", "JSON nested deeper than " + EventParser.MAX_NESTING_DEPTH + " levels");
    } catch (JsonProcessingException e) {
      return Parsed.rejected("malformed_json", EventParser.firstLine(e.getOriginalMessage()));
    } catch (IOException e) {
      return Parsed.rejected("malformed_json", EventParser.firstLine(e.getMessage()));
    }
    for (int i = 0; i < values.length; i++) {
      if (values[i] == null && columns.get(i).required) {
        return Parsed.rejected("missing_field", "missing field: " + columns.get(i).path);
      }
    }
    return Parsed.ok(Row.withSchema(schema).addValues(values).build());
  }

  /**
   * Reads the fields of the object the parser is in (after its START_OBJECT) into {@code values}; a
   * rejection for a mapped field of the wrong type, else null.
   */
  private @Nullable Parsed<Row> readObject(JsonParser p, String prefix, Object[] values)
      throws IOException {
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String path = prefix + p.currentName();
      JsonToken t = p.nextToken();
      Integer index = paths().get(path);
      if (index != null) {
        Parsed<Row> wrong = readValue(p, t, columns.get(index), values, index);
        if (wrong != null) {
          return wrong;
        }
      } else if (t == JsonToken.START_OBJECT && wantsUnder(path + ".")) {
        Parsed<Row> wrong = readObject(p, path + ".", values);
        if (wrong != null) {
          return wrong;
        }
      } else {
        p.skipChildren();
      }
    }
    return null;
  }

  private static @Nullable Parsed<Row> readValue(
      JsonParser p, JsonToken t, Column c, Object[] values, int index) throws IOException {
    if (t == JsonToken.VALUE_NULL) {
      return null;
    }
    switch (c.type) {
      case STRING:
        if (t != JsonToken.VALUE_STRING) {
          p.skipChildren();
          return Parsed.rejected(
              "wrong_type", c.path + " must be a string, got " + EventParser.kind(t));
        }
        String s = p.getText();
        if (EventParser.utf8Length(s) > MAX_ID_BYTES) {
          return Parsed.rejected(
              "too_long", c.path + " is longer than " + MAX_ID_BYTES + " bytes in UTF-8");
        }
        values[index] = s;
        return null;
      case INT64:
        if (t != JsonToken.VALUE_NUMBER_INT
            || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
          p.skipChildren();
          return Parsed.rejected(
              "wrong_type", c.path + " must be an integer of 64 bits, got " + p.getText());
        }
        values[index] = p.getLongValue();
        return null;
      default:
        Optional<Long> millis;
        if (t == JsonToken.VALUE_STRING) {
          millis = EventParser.parseTimestamp(p.getText());
        } else if (t == JsonToken.VALUE_NUMBER_INT
            && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
          long ms = p.getLongValue();
          millis =
              ms >= EventParser.MIN_TIMESTAMP_MILLIS && ms <= EventParser.MAX_TIMESTAMP_MILLIS
                  ? Optional.of(ms)
                  : Optional.empty();
        } else {
          p.skipChildren();
          millis = Optional.empty();
        }
        if (millis.isEmpty()) {
          return Parsed.rejected(
              "invalid_timestamp",
              c.path + " is neither ISO-8601 with a zone nor epoch milliseconds from 1970 to 9999");
        }
        values[index] = new Instant(millis.get());
        return null;
    }
  }

  private JsonFactory factory() {
    if (json == null) {
      json = new JsonFactory(EventParser.factorySettings());
    }
    return json;
  }

  private Map<String, Integer> paths() {
    if (byPath == null) {
      Map<String, Integer> m = new HashMap<>();
      for (int i = 0; i < columns.size(); i++) {
        m.put(columns.get(i).path, i);
      }
      byPath = m;
    }
    return byPath;
  }

  private boolean wantsUnder(String prefix) {
    for (Column c : columns) {
      if (c.path.startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }

  /** See {@link JsonFormat#named}. */
  public static final class Builder {
    private final String name;
    private final List<Column> columns = new ArrayList<>();
    private final List<String> idColumns = new ArrayList<>();
    private @Nullable String timeColumn;

    private Builder(String name) {
      if (name == null || !NAME.matcher(name).matches()) {
        throw new IllegalArgumentException(
            "invalid format name '" + name + "': lower-case letters, digits, '-' or '_'");
      }
      this.name = name;
    }

    /** The id column (a required string), from the field of the same name. */
    public Builder id(String column) {
      return id(column, column);
    }

    /** The id column (a required string), from {@code path}. */
    public Builder id(String column, String path) {
      idColumns.clear();
      idColumns.add(column);
      return add(column, path, Type.STRING, true);
    }

    /**
     * The id made of required columns declared before (e.g. an order's id and its status, when each
     * status change is an event of its own), joined by '/'.
     */
    public Builder idFrom(String... columnNames) {
      idColumns.clear();
      for (String n : columnNames) {
        Column c =
            columns.stream()
                .filter(x -> x.name.equals(n))
                .findFirst()
                .orElseThrow(
                    () -> new IllegalArgumentException(name + ": declare column " + n + " first"));
        if (!c.required || c.type == Type.TIME) {
          throw new IllegalArgumentException(
              name + ": id column " + n + " must be a required string or int64");
        }
        idColumns.add(n);
      }
      return this;
    }

    /** The event-time column (a required DATETIME), from the field of the same name. */
    public Builder eventTime(String column) {
      return eventTime(column, column);
    }

    /** The event-time column (a required DATETIME), from {@code path}. */
    public Builder eventTime(String column, String path) {
      timeColumn = column;
      return add(column, path, Type.TIME, true);
    }

    public Builder string(String column) {
      return string(column, column);
    }

    /** A required string column from {@code path}. */
    public Builder string(String column, String path) {
      return add(column, path, Type.STRING, true);
    }

    /** A string column that may be absent or null. */
    public Builder optionalString(String column) {
      return add(column, column, Type.STRING, false);
    }

    public Builder int64(String column) {
      return int64(column, column);
    }

    /** A required 64-bit integer column from {@code path}. */
    public Builder int64(String column, String path) {
      return add(column, path, Type.INT64, true);
    }

    /** A 64-bit integer column that may be absent or null. */
    public Builder optionalInt64(String column) {
      return add(column, column, Type.INT64, false);
    }

    private Builder add(String column, String path, Type type, boolean required) {
      if (column == null || !column.matches("[a-z][a-z0-9]*(_[a-z0-9]+)*")) {
        throw new IllegalArgumentException(
            name + ": invalid column name '" + column + "' (lower-case, digits, '_')");
      }
      if (path == null || path.isEmpty() || path.startsWith(".") || path.endsWith(".")) {
        throw new IllegalArgumentException(name + ": invalid JSON path '" + path + "'");
      }
      for (Column c : columns) {
        if (c.name.equals(column) || c.path.equals(path)) {
          throw new IllegalArgumentException(
              name + ": column " + column + " or path " + path + " mapped twice");
        }
      }
      columns.add(new Column(column, path, type, required));
      return this;
    }

    /** The format; it needs an id and an event-time column. */
    public JsonFormat build() {
      if (idColumns.isEmpty() || timeColumn == null) {
        throw new IllegalStateException(name + ": say id(...) or idFrom(...), and eventTime(...)");
      }
      return new JsonFormat(name, columns, idColumns, timeColumn);
    }
  }
}
