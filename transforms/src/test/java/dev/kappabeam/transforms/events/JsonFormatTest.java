package dev.kappabeam.transforms.events;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Instant;
import org.junit.jupiter.api.Test;

/** A team's JSON read by a field mapping: the rows it gives and the dead letters it rejects. */
class JsonFormatTest {
  static final JsonFormat ORDERS =
      JsonFormat.named("orders-json")
          .string("order_id")
          .string("customer_id", "customer.id")
          .string("status")
          .int64("total_cents")
          .string("currency")
          .optionalString("coupon")
          .eventTime("ts")
          .idFrom("order_id", "status")
          .build();

  private static Parsed<Row> parse(String json) {
    return ORDERS.parse(json.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aValidOrderBecomesARowWithItsIdAndEventTime() {
    Parsed<Row> p =
        parse(
            "{\"order_id\":\"o-1\",\"customer\":{\"id\":\"c-7\",\"tier\":{\"x\":1}},"
                + "\"status\":\"paid\",\"total_cents\":1250,\"currency\":\"EUR\","
                + "\"ts\":\"2026-11-25T10:00:00+01:00\",\"extra\":[1,2]}");
    assertTrue(p.isValid(), p::toString);
    Row r = p.event();
    assertEquals("c-7", r.getString("customer_id"));
    assertEquals(1250L, r.getInt64("total_cents"));
    assertNull(r.getString("coupon"));
    assertEquals("o-1/paid", ORDERS.id(r));
    assertEquals(Instant.parse("2026-11-25T09:00:00Z").getMillis(), ORDERS.eventTimeMillis(r));
  }

  @Test
  void epochMillisAsNumberOrDigitsAreEventTimes() {
    String base =
        "{\"order_id\":\"o\",\"customer\":{\"id\":\"c\"},\"status\":\"placed\","
            + "\"total_cents\":1,\"currency\":\"EUR\",\"ts\":";
    assertEquals(1000L, ORDERS.eventTimeMillis(parse(base + "1000}").event()));
    assertEquals(1000L, ORDERS.eventTimeMillis(parse(base + "\"1000\"}").event()));
    assertEquals("invalid_timestamp", parse(base + "-5}").code());
    assertEquals("invalid_timestamp", parse(base + "\"yesterday\"}").code());
    assertEquals("invalid_timestamp", parse(base + "1.5}").code());
  }

  @Test
  void everyRuleRejectsWithItsCode() {
    String ok =
        "\"order_id\":\"o\",\"customer\":{\"id\":\"c\"},\"status\":\"placed\","
            + "\"currency\":\"EUR\",\"ts\":1000";
    assertEquals("missing_field", parse("{" + ok + "}").code()); // no total_cents
    assertEquals("missing_field", parse("{" + ok + ",\"total_cents\":null}").code());
    assertEquals("wrong_type", parse("{" + ok + ",\"total_cents\":\"12\"}").code());
    assertEquals("wrong_type", parse("{" + ok + ",\"total_cents\":1e3}").code());
    assertEquals("wrong_type", parse("{" + ok + ",\"total_cents\":99999999999999999999}").code());
    assertEquals("wrong_type", parse("{" + ok + ",\"total_cents\":1,\"coupon\":5}").code());
    assertEquals(
        "too_long",
        parse("{" + ok + ",\"total_cents\":1,\"coupon\":\"" + "x".repeat(257) + "\"}").code());
    assertEquals("malformed_json", parse("{" + ok + ",\"total_cents\":1").code());
    assertEquals(
        "malformed_json", parse("{" + ok + ",\"total_cents\":1,\"total_cents\":2}").code());
    assertEquals("malformed_json", parse("{" + ok + ",\"total_cents\":1} {}").code());
    assertEquals("not_an_object", parse("[1]").code());
    assertEquals("too_deep", parse("{\"a\":" + "[".repeat(100) + "]".repeat(100) + "}").code());
    assertEquals("empty_record", ORDERS.parse(null).code());
    assertEquals("empty_record", ORDERS.parse(new byte[0]).code());
    assertEquals("not_utf8", ORDERS.parse(new byte[] {(byte) 0xC3, 0x28}).code());
  }

  @Test
  void theFlatFormReadsBackWhatTheLateTopicGets() throws Exception {
    Row r =
        parse(
                "{\"order_id\":\"o-9\",\"customer\":{\"id\":\"c\"},\"status\":\"shipped\","
                    + "\"total_cents\":7,\"currency\":\"USD\",\"coupon\":\"X\",\"ts\":5000}")
            .event();
    Parsed<Row> back = ORDERS.flat().parse(ORDERS.toBytes(r));
    assertTrue(back.isValid(), back::toString);
    assertEquals(r, back.event());
    assertArrayEquals(
        CoderUtils.encodeToByteArray(ORDERS.coder(), r),
        CoderUtils.encodeToByteArray(ORDERS.coder(), back.event()));
    ORDERS.coder().verifyDeterministic();
  }

  @Test
  void aMappingWithoutIdOrTimeOrWithAClashIsRefused() {
    assertThrows(
        IllegalStateException.class,
        () -> JsonFormat.named("x").string("a").eventTime("t").build());
    assertThrows(IllegalStateException.class, () -> JsonFormat.named("x").id("a").build());
    assertThrows(
        IllegalArgumentException.class, () -> JsonFormat.named("x").id("a").string("a", "b"));
    assertThrows(IllegalArgumentException.class, () -> JsonFormat.named("X Y"));
    assertThrows(
        IllegalArgumentException.class, () -> JsonFormat.named("x").eventTime("t").idFrom("t"));
  }

  @Test
  void theMachineryChecksEveryFormatsIdsAndTimesAndCatchesItsExceptions() {
    EventFormat<Row> throwing =
        new DelegatingFormat(ORDERS) {
          @Override
          public Parsed<Row> parse(byte[] value) {
            throw new IllegalStateException("bug in a plug-in");
          }
        };
    assertEquals("format_error", ParseEvents.parseOnce(throwing, new byte[] {1}).code());
    String longId =
        "{\"order_id\":\""
            + "o".repeat(250)
            + "\",\"customer\":{\"id\":\"c\"},\"status\":"
            + "\"placed\",\"total_cents\":1,\"currency\":\"EUR\",\"ts\":1000}";
    // 250 + "/placed" is over the 256 bytes an id may have
    assertEquals(
        "too_long", ParseEvents.parseOnce(ORDERS, longId.getBytes(StandardCharsets.UTF_8)).code());
  }

  /** A format that answers as another does, for tests that override one method. */
  static class DelegatingFormat implements EventFormat<Row> {
    private final EventFormat<Row> inner;

    DelegatingFormat(EventFormat<Row> inner) {
      this.inner = inner;
    }

    @Override
    public String name() {
      return inner.name();
    }

    @Override
    public org.apache.beam.sdk.coders.Coder<Row> coder() {
      return inner.coder();
    }

    @Override
    public Parsed<Row> parse(byte[] value) {
      return inner.parse(value);
    }

    @Override
    public String id(Row event) {
      return inner.id(event);
    }

    @Override
    public long eventTimeMillis(Row event) {
      return inner.eventTimeMillis(event);
    }

    @Override
    public byte[] toBytes(Row event) {
      return inner.toBytes(event);
    }
  }
}
