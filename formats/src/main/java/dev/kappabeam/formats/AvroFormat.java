package dev.kappabeam.formats;

import dev.kappabeam.transforms.events.EventFormat;
import dev.kappabeam.transforms.events.EventParser;
import dev.kappabeam.transforms.events.Parsed;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.extensions.avro.coders.AvroCoder;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Avro records as events ({@link GenericRecord}s of the <em>reader</em> schema, the one a team's
 * views are written against), in one of two wire forms:
 *
 * <ul>
 *   <li>{@link #withWriterSchema}: each value is the Avro binary encoding of one record in a writer
 *       schema known up front (e.g. read from an {@code .avsc} file, {@link #schemaFile}).
 *   <li>{@link #confluent}: the Confluent wire format (a zero byte, the writer schema's id as four
 *       bytes big-endian, then the Avro binary), the writer schema fetched by id from a schema
 *       registry ({@link SchemaRegistry}).
 * </ul>
 *
 * Either way the record is resolved from its writer schema into the reader schema with Avro's
 * schema resolution (fields added with defaults, fields removed, promotions), so a topic whose
 * producers moved to a newer compatible schema reads on.
 *
 * <pre>{@code
 * AvroFormat orders = AvroFormat.confluent("orders-avro", readerSchema, SchemaRegistry.at(url))
 *     .withId("order_id", "status")   // the id de-duplication keys on
 *     .withEventTime("ts");            // long epoch millis (timestamp-millis) or ISO-8601 string
 * }</pre>
 *
 * <p>Dead letters: {@code empty_record}, {@code too_large} (over {@value
 * EventParser#MAX_VALUE_BYTES} bytes), {@code not_confluent_avro} (no magic byte or id), {@code
 * unknown_schema} (an id the registry does not know), {@code incompatible_schema} (the writer
 * schema does not resolve into the reader schema), {@code malformed_avro} (the bytes do not decode,
 * or bytes are left over), {@code missing_field} (an id or time field is null), {@code
 * invalid_timestamp}. A registry that does not answer stops the step rather than dead-letter valid
 * records ({@link dev.kappabeam.transforms.events.EventFormat.Unavailable}).
 */
public final class AvroFormat implements EventFormat<GenericRecord> {
  private static final long serialVersionUID = 1L;
  private static final byte MAGIC = 0;

  private final String name;
  private final String readerSchemaJson;
  private final @Nullable String writerSchemaJson;
  private final @Nullable SchemaRegistry registry;
  private final List<String> idFields;
  private final @Nullable String timeField;
  private transient @Nullable Schema reader;
  private transient @Nullable Map<Integer, GenericDatumReader<GenericRecord>> readers;

  private AvroFormat(
      String name,
      String readerSchemaJson,
      @Nullable String writerSchemaJson,
      @Nullable SchemaRegistry registry,
      List<String> idFields,
      @Nullable String timeField) {
    this.name = name;
    this.readerSchemaJson = readerSchemaJson;
    this.writerSchemaJson = writerSchemaJson;
    this.registry = registry;
    this.idFields = List.copyOf(idFields);
    this.timeField = timeField;
  }

  /** Values are Avro binary in {@code writer}; events are resolved into {@code reader}. */
  public static AvroFormat withWriterSchema(String name, Schema reader, Schema writer) {
    String problem = incompatibility(reader, writer);
    if (problem != null) {
      throw new IllegalArgumentException(
          name + ": the writer schema does not resolve into the reader schema: " + problem);
    }
    return new AvroFormat(
        checkedName(name), reader.toString(), writer.toString(), null, List.of(), null);
  }

  /** Values are Avro binary in the reader schema itself. */
  public static AvroFormat withWriterSchema(String name, Schema schema) {
    return withWriterSchema(name, schema, schema);
  }

  /** Values in the Confluent wire format; writer schemas from {@code registry}. */
  public static AvroFormat confluent(String name, Schema reader, SchemaRegistry registry) {
    return new AvroFormat(
        checkedName(name),
        reader.toString(),
        null,
        Objects.requireNonNull(registry),
        List.of(),
        null);
  }

  /** An Avro schema from an {@code .avsc} file. */
  public static Schema schemaFile(Path avsc) {
    try {
      return new Schema.Parser().parse(Files.readString(avsc));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the Avro schema " + avsc, e);
    }
  }

  /** The id: the value of one field, or of several joined by '/'. */
  public AvroFormat withId(String... fields) {
    for (String f : fields) {
      requireField(f);
    }
    return new AvroFormat(
        name, readerSchemaJson, writerSchemaJson, registry, List.of(fields), timeField);
  }

  /** The event-time field: a long of epoch milliseconds, or an ISO-8601 string with a zone. */
  public AvroFormat withEventTime(String field) {
    requireField(field);
    return new AvroFormat(name, readerSchemaJson, writerSchemaJson, registry, idFields, field);
  }

  private static String checkedName(String name) {
    if (name == null || !name.matches("[a-z][a-z0-9]*([-_][a-z0-9]+)*")) {
      throw new IllegalArgumentException(
          "invalid format name '" + name + "': lower-case letters, digits, '-' or '_'");
    }
    return name;
  }

  private void requireField(String field) {
    if (readerSchema().getField(field) == null) {
      throw new IllegalArgumentException(
          name + ": the reader schema has no field " + field + "; fields: " + fieldNames());
    }
  }

  private List<String> fieldNames() {
    List<String> names = new ArrayList<>();
    for (Schema.Field f : readerSchema().getFields()) {
      names.add(f.name());
    }
    return names;
  }

  /** The schema the events are read into. */
  public Schema readerSchema() {
    if (reader == null) {
      reader = new Schema.Parser().parse(readerSchemaJson);
    }
    return reader;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Coder<GenericRecord> coder() {
    return AvroCoder.of(readerSchema());
  }

  @Override
  public Parsed<GenericRecord> parse(byte @Nullable [] value) {
    checkConfigured();
    if (value == null || value.length == 0) {
      return Parsed.rejected("empty_record", "record has no value");
    }
    if (value.length > EventParser.MAX_VALUE_BYTES) {
      return Parsed.rejected(
          "too_large",
          "record value is "
              + value.length
              + " bytes; the limit is "
              + EventParser.MAX_VALUE_BYTES);
    }
    GenericDatumReader<GenericRecord> datumReader;
    int offset = 0;
    if (registry == null) {
      datumReader = datumReader(-1);
    } else {
      if (value.length < 5 || value[0] != MAGIC) {
        return Parsed.rejected(
            "not_confluent_avro",
            "expected the Confluent wire format (a zero byte, a 4-byte schema id, Avro)");
      }
      int id = ByteBuffer.wrap(value, 1, 4).getInt();
      Optional<Schema> writer = registry.schema(id);
      if (writer.isEmpty()) {
        return Parsed.rejected(
            "unknown_schema", "schema id " + id + " is not in the registry " + registry.url());
      }
      String problem = incompatibility(readerSchema(), writer.get());
      if (problem != null) {
        return Parsed.rejected(
            "incompatible_schema",
            "writer schema " + id + " does not resolve into the reader schema: " + problem);
      }
      datumReader = datumReader(id, writer.get());
      offset = 5;
    }
    GenericRecord record;
    try {
      BinaryDecoder in =
          DecoderFactory.get().binaryDecoder(value, offset, value.length - offset, null);
      record = datumReader.read(null, in);
      if (!in.isEnd()) {
        return Parsed.rejected("malformed_avro", "bytes left over after the record");
      }
    } catch (IOException | RuntimeException e) {
      // Avro reports corrupt lengths and unknown union branches with plain runtime exceptions.
      return Parsed.rejected(
          "malformed_avro", "cannot decode the record: " + e.getClass().getSimpleName());
    }
    for (String f : idFields) {
      if (record.get(f) == null) {
        return Parsed.rejected("missing_field", "id field " + f + " is null");
      }
    }
    Object time = record.get(timeField);
    if (time == null) {
      return Parsed.rejected("missing_field", "event-time field " + timeField + " is null");
    }
    if (timeOf(time).isEmpty()) {
      return Parsed.rejected(
          "invalid_timestamp",
          timeField + " is neither epoch milliseconds nor ISO-8601 with a zone, 1970 to 9999");
    }
    return Parsed.ok(record);
  }

  private void checkConfigured() {
    if (idFields.isEmpty() || timeField == null) {
      throw new IllegalStateException(name + ": say withId(...) and withEventTime(...)");
    }
  }

  private GenericDatumReader<GenericRecord> datumReader(int id) {
    return datumReader(id, new Schema.Parser().parse(Objects.requireNonNull(writerSchemaJson)));
  }

  private GenericDatumReader<GenericRecord> datumReader(int id, Schema writer) {
    if (readers == null) {
      readers = new ConcurrentHashMap<>();
    }
    GenericDatumReader<GenericRecord> r = readers.get(id);
    if (r == null) {
      r = new GenericDatumReader<>(writer, readerSchema());
      readers.put(id, r);
    }
    return r;
  }

  /** Why {@code writer} does not resolve into {@code reader}, or null when it does. */
  static @Nullable String incompatibility(Schema reader, Schema writer) {
    SchemaCompatibility.SchemaPairCompatibility c =
        SchemaCompatibility.checkReaderWriterCompatibility(reader, writer);
    if (c.getType() == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
      return null;
    }
    String d = c.getDescription();
    return d == null ? "incompatible" : d.lines().findFirst().orElse(d);
  }

  private static Optional<Long> timeOf(Object value) {
    if (value instanceof Long || value instanceof Integer) {
      long ms = ((Number) value).longValue();
      return ms >= EventParser.MIN_TIMESTAMP_MILLIS && ms <= EventParser.MAX_TIMESTAMP_MILLIS
          ? Optional.of(ms)
          : Optional.empty();
    }
    if (value instanceof CharSequence) {
      return EventParser.parseTimestamp(value.toString());
    }
    return Optional.empty();
  }

  @Override
  public String id(GenericRecord event) {
    if (idFields.size() == 1) {
      return String.valueOf(event.get(idFields.get(0)));
    }
    StringBuilder b = new StringBuilder();
    for (String f : idFields) {
      if (b.length() > 0) {
        b.append('/');
      }
      b.append(event.get(f));
    }
    return b.toString();
  }

  @Override
  public long eventTimeMillis(GenericRecord event) {
    return timeOf(event.get(timeField)).orElseThrow();
  }

  /**
   * The record as Avro binary in the reader schema (no Confluent framing: the late topic is read
   * with {@code AvroFormat.withWriterSchema(name, readerSchema)}).
   */
  @Override
  public byte[] toBytes(GenericRecord event) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(128);
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
    try {
      new GenericDatumWriter<GenericRecord>(readerSchema()).write(event, encoder);
      encoder.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
