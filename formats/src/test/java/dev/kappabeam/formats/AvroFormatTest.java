package dev.kappabeam.formats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.kappabeam.transforms.events.EventFormat;
import dev.kappabeam.transforms.events.ParseEvents;
import dev.kappabeam.transforms.events.Parsed;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.beam.sdk.util.CoderUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Avro orders as events: with a writer schema from a file, and in the Confluent wire format with
 * writer schemas from a schema registry. The registry here is a small fake speaking the registry's
 * REST API ({@code GET /schemas/ids/<id>}) on the JDK's HTTP server: Confluent's own registry is
 * not served from Maven Central here.
 */
class AvroFormatTest {
  static final String V1 =
      "{\"type\":\"record\",\"name\":\"Order\",\"namespace\":\"shop\",\"fields\":["
          + "{\"name\":\"order_id\",\"type\":\"string\"},"
          + "{\"name\":\"customer_id\",\"type\":\"string\"},"
          + "{\"name\":\"status\",\"type\":{\"type\":\"enum\",\"name\":\"Status\","
          + "\"symbols\":[\"placed\",\"paid\",\"shipped\",\"cancelled\"]}},"
          + "{\"name\":\"total_cents\",\"type\":\"long\"},"
          + "{\"name\":\"currency\",\"type\":\"string\"},"
          + "{\"name\":\"ts\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}}]}";

  /** V1 plus a channel with a default: producers that moved on still read as V1 readers expect. */
  static final String V2 =
      V1.replace(
          "{\"name\":\"currency\",\"type\":\"string\"},",
          "{\"name\":\"currency\",\"type\":\"string\"},"
              + "{\"name\":\"channel\",\"type\":\"string\",\"default\":\"web\"},");

  /** total_cents as a string: no reader of V1 can read it. */
  static final String INCOMPATIBLE =
      V1.replace(
          "{\"name\":\"total_cents\",\"type\":\"long\"}",
          "{\"name\":\"total_cents\",\"type\":\"string\"}");

  static final Schema READER = new Schema.Parser().parse(V1);

  @TempDir Path dir;
  private HttpServer registry;
  private final Map<Integer, String> schemas = new ConcurrentHashMap<>();
  private final AtomicInteger failNext = new AtomicInteger();
  private final AtomicInteger requests = new AtomicInteger();

  @BeforeEach
  void startRegistry() throws IOException {
    schemas.put(1, V1);
    schemas.put(2, V2);
    schemas.put(3, INCOMPATIBLE);
    registry = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    registry.createContext(
        "/schemas/ids/",
        exchange -> {
          requests.incrementAndGet();
          String id = exchange.getRequestURI().getPath().substring("/schemas/ids/".length());
          String schema = schemas.get(Integer.parseInt(id));
          int status;
          String body;
          if (failNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            status = 500;
            body = "{\"error_code\":50001,\"message\":\"store down\"}";
          } else if (schema == null) {
            status = 404;
            body = "{\"error_code\":40403,\"message\":\"Schema not found\"}";
          } else {
            status = 200;
            body = "{\"schema\":" + quote(schema) + "}";
          }
          byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
          exchange
              .getResponseHeaders()
              .add("Content-Type", "application/vnd.schemaregistry.v1+json");
          exchange.sendResponseHeaders(status, bytes.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
          }
        });
    registry.start();
  }

  @AfterEach
  void stopRegistry() {
    if (registry != null) {
      registry.stop(0);
    }
  }

  private String url() {
    // a fresh path per test: the schema cache is per registry URL
    return "http://127.0.0.1:" + registry.getAddress().getPort() + "/";
  }

  private AvroFormat confluent() {
    return AvroFormat.confluent("orders-avro", READER, SchemaRegistry.at(url()))
        .withId("order_id", "status")
        .withEventTime("ts");
  }

  @Test
  void aWriterSchemaFromAFileReadsRecordsIntoEvents() throws Exception {
    Path avsc = dir.resolve("order.avsc");
    Files.writeString(avsc, V1);
    AvroFormat f =
        AvroFormat.withWriterSchema("orders-avro", AvroFormat.schemaFile(avsc))
            .withId("order_id", "status")
            .withEventTime("ts");
    Parsed<GenericRecord> p = f.parse(avro(new Schema.Parser().parse(V1), order("o-1", "paid")));
    assertTrue(p.isValid(), p::toString);
    assertEquals("o-1/paid", f.id(p.event()));
    assertEquals(1_764_064_800_000L, f.eventTimeMillis(p.event()));
    assertEquals(1250L, p.event().get("total_cents"));
    // the late topic's bytes read back to the same event, and the coder round-trips it
    assertEquals(p.event(), f.parse(f.toBytes(p.event())).event());
    assertEquals(p.event(), CoderUtils.clone(f.coder(), p.event()));
  }

  @Test
  void badBytesAreDeadLettersWithTheirCodes() {
    AvroFormat f =
        AvroFormat.withWriterSchema("orders-avro", READER).withId("order_id").withEventTime("ts");
    byte[] good = avro(READER, order("o-1", "paid"));
    assertEquals("empty_record", f.parse(null).code());
    assertEquals("empty_record", f.parse(new byte[0]).code());
    assertEquals("malformed_avro", f.parse(Arrays.copyOf(good, good.length - 3)).code());
    byte[] longer = Arrays.copyOf(good, good.length + 2);
    assertEquals("malformed_avro", f.parse(longer).code());
    assertEquals(
        "malformed_avro", f.parse("{\"json\":true}".getBytes(StandardCharsets.UTF_8)).code());
    GenericRecord negative = order("o-2", "paid");
    negative.put("ts", -5L);
    assertEquals("invalid_timestamp", f.parse(avro(READER, negative)).code());
  }

  @Test
  void anIncompatibleWriterSchemaIsRefusedWhenTheFormatIsBuilt() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                AvroFormat.withWriterSchema(
                    "orders-avro", READER, new Schema.Parser().parse(INCOMPATIBLE)));
    assertTrue(e.getMessage().contains("does not resolve"), e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> AvroFormat.withWriterSchema("orders-avro", READER).withId("no_such_field"));
  }

  @Test
  void confluentRecordsOfOldAndNewWriterSchemasReadIntoTheReaderSchema() {
    AvroFormat f = confluent();
    Parsed<GenericRecord> v1 = f.parse(confluent(1, V1, order("o-1", "placed")));
    assertTrue(v1.isValid(), v1::toString);
    Schema v2 = new Schema.Parser().parse(V2);
    GenericRecord newer = order(v2, "o-2", "paid");
    newer.put("channel", "app");
    Parsed<GenericRecord> fromV2 = f.parse(confluent(2, V2, newer));
    assertTrue(fromV2.isValid(), fromV2::toString);
    assertEquals(READER, fromV2.event().getSchema());
    assertEquals("o-2/paid", f.id(fromV2.event()));
    int asked = requests.get();
    for (int i = 0; i < 10; i++) {
      assertTrue(f.parse(confluent(2, V2, newer)).isValid());
    }
    assertEquals(asked, requests.get(), "each schema id is fetched once");
  }

  @Test
  void confluentRejectionsNameWhatIsWrong() {
    AvroFormat f = confluent();
    assertEquals("unknown_schema", f.parse(confluent(9, V1, order("o", "paid"))).code());
    assertEquals(
        "incompatible_schema",
        f.parse(frame(3, new byte[] {2, 'x', 2, 'c', 2, 2, '1', 2, 'E', 0})).code());
    assertEquals("not_confluent_avro", f.parse(avro(READER, order("o", "paid"))).code());
    assertEquals("not_confluent_avro", f.parse(new byte[] {0, 0, 0}).code());
  }

  @Test
  void aRegistryThatFailsForAWhileIsRetriedAndOneThatStaysDownStopsTheStep() {
    failNext.set(2);
    AvroFormat patient = confluent();
    assertTrue(patient.parse(confluent(1, V1, order("o-1", "paid"))).isValid());
    assertEquals(3, requests.get(), "two server errors, then the schema");

    registry.stop(0);
    AvroFormat down =
        AvroFormat.confluent(
                "orders-avro", READER, SchemaRegistry.at(url()).withPatience(Duration.ofSeconds(1)))
            .withId("order_id")
            .withEventTime("ts");
    byte[] unseenId = confluent(2, V2, order(new Schema.Parser().parse(V2), "o-3", "paid"));
    SchemaRegistry.RegistryUnavailableException e =
        assertThrows(SchemaRegistry.RegistryUnavailableException.class, () -> down.parse(unseenId));
    assertTrue(e.getMessage().contains("did not answer"), e.getMessage());
    // Through the machinery's parse: not a dead letter, the step fails.
    assertThrows(EventFormat.Unavailable.class, () -> ParseEvents.parseOnce(down, unseenId));
  }

  @Test
  void registryUrlsWithCredentialsOrOfOtherSchemesAreRefused() {
    assertThrows(
        IllegalArgumentException.class, () -> SchemaRegistry.at("http://user:secret@host:8081"));
    assertThrows(IllegalArgumentException.class, () -> SchemaRegistry.at("file:///etc/passwd"));
  }

  static GenericRecord order(String id, String status) {
    return order(READER, id, status);
  }

  static GenericRecord order(Schema schema, String id, String status) {
    GenericRecord r = new GenericData.Record(schema);
    r.put("order_id", id);
    r.put("customer_id", "c-1");
    r.put("status", new GenericData.EnumSymbol(schema.getField("status").schema(), status));
    r.put("total_cents", 1250L);
    r.put("currency", "EUR");
    r.put("ts", 1_764_064_800_000L); // 2025-11-25T10:00:00Z
    if (schema.getField("channel") != null) {
      r.put("channel", "web");
    }
    return r;
  }

  static byte[] avro(Schema schema, GenericRecord record) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
    try {
      new GenericDatumWriter<GenericRecord>(schema).write(record, encoder);
      encoder.flush();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return out.toByteArray();
  }

  static byte[] confluent(int id, String writer, GenericRecord record) {
    return frame(id, avro(new Schema.Parser().parse(writer), record));
  }

  static byte[] frame(int id, byte[] avro) {
    return ByteBuffer.allocate(5 + avro.length).put((byte) 0).putInt(id).put(avro).array();
  }

  static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
