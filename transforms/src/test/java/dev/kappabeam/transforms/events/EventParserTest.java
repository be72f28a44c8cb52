package dev.kappabeam.transforms.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class EventParserTest {
  private static final String VALID =
      "{\"event_id\":\"e-000001\",\"user_id\":\"u-17\",\"type\":\"purchase\",\"item\":\"sku-42\","
          + "\"amount_cents\":1299,\"ts\":\"2026-11-25T10:00:00.123Z\"}";

  /** One Reader for every case of the class: its reused buffers see good and bad input. */
  private static final EventParser.Reader READER = new EventParser.Reader();

  /** {@link EventParser#parse}, checked against a {@link EventParser.Reader}'s answer. */
  private static EventParser.Result parse(String json) {
    return parse(json.getBytes(StandardCharsets.UTF_8));
  }

  private static EventParser.Result parse(byte[] value) {
    EventParser.Result r = EventParser.parse(value);
    assertEquals(r.toString(), READER.parse(value).toString(), "a Reader answers as parse does");
    return r;
  }

  private static void assertRejected(String json, ParseError expected) {
    EventParser.Result r = parse(json);
    assertFalse(r.isValid(), () -> "expected " + expected + " for " + json);
    assertEquals(expected, r.error(), () -> json + " -> " + r);
  }

  private static String view(String fields) {
    return "{\"event_id\":\"e-1\",\"user_id\":\"u-1\",\"type\":\"view\"," + fields + "}";
  }

  /** parseOnce answers as parse does, and reuses the result only for the very same array. */
  @Test
  void parseOnceRemembersOnlyTheSameArray() {
    byte[] a =
        "{\"event_id\":\"e-1\",\"user_id\":\"u-1\",\"type\":\"view\",\"ts\":\"2026-11-25T10:00:00Z\"}"
            .getBytes(StandardCharsets.UTF_8);
    byte[] b =
        "{\"event_id\":\"e-2\",\"user_id\":\"u-1\",\"type\":\"view\",\"ts\":\"2026-11-25T10:00:01Z\"}"
            .getBytes(StandardCharsets.UTF_8);
    EventParser.Result first = EventParser.parseOnce(a);
    assertSame(first, EventParser.parseOnce(a));
    assertEquals(EventParser.parse(a).event(), first.event());
    EventParser.Result other = EventParser.parseOnce(b);
    assertEquals("e-2", other.event().eventId());
    byte[] copyOfA = a.clone();
    EventParser.Result again = EventParser.parseOnce(copyOfA);
    assertNotSame(first, again);
    assertEquals(first.event(), again.event());
    assertFalse(EventParser.parseOnce(null).isValid());
    assertFalse(EventParser.parseOnce(null).isValid());
  }

  @Test
  void referenceRecordParsesToAllFields() {
    Event e = parse(VALID).event();
    assertEquals("e-000001", e.eventId());
    assertEquals("u-17", e.userId());
    assertEquals(EventType.PURCHASE, e.type());
    assertEquals("sku-42", e.item());
    assertEquals(1299L, e.amountCents());
    assertEquals(Instant.parse("2026-11-25T10:00:00.123Z").toEpochMilli(), e.timestampMillis());
    assertEquals(1299L, e.revenueCents());
  }

  @Test
  void nonPurchaseWithoutItemAndAmountIsValid() {
    Event e = parse(view("\"ts\":\"2026-11-25T10:00:00Z\"")).event();
    assertNull(e.item());
    assertNull(e.amountCents());
    assertEquals(0L, e.revenueCents());
  }

  @Test
  void nonPurchaseAmountIsKeptButEarnsNoRevenue() {
    Event e = parse(view("\"amount_cents\":500,\"item\":\"sku-1\",\"ts\":1764064800000")).event();
    assertEquals(500L, e.amountCents());
    assertEquals(0L, e.revenueCents());
  }

  @Test
  void unknownFieldsAndAnyFieldOrderAreAccepted() {
    EventParser.Result r =
        parse(
            "{\"ts\":\"2026-11-25T10:00:00Z\",\"extra\":{\"nested\":[1,2,{\"a\":null}]},"
                + "\"type\":\"click\",\"user_id\":\"u-1\",\"event_id\":\"e-9\",\"v\":2}");
    assertTrue(r.isValid(), r::toString);
  }

  @Test
  void nonAsciiStringsSurviveUnchanged() {
    Event e =
        parse(
                "{\"event_id\":\"e-ü1\",\"user_id\":\"u-Zoë-日本\",\"type\":\"purchase\","
                    + "\"item\":\"sku-café-☕\",\"amount_cents\":1,\"ts\":\"2026-11-25T10:00:00Z\"}")
            .event();
    assertEquals("u-Zoë-日本", e.userId());
    assertEquals("sku-café-☕", e.item());
    assertEquals("e-ü1", e.eventId());
  }

  @Test
  void escapedUnicodeIsDecoded() {
    Event e = parse(view("\"ts\":\"2026-11-25T10:00:00Z\"").replace("u-1", "u-\\u00e9")).event();
    assertEquals("u-é", e.userId());
  }

  @ParameterizedTest
  @CsvSource({
    "2026-11-25T10:00:00.123Z, 2026-11-25T10:00:00.123Z",
    "2026-11-25T10:00:00Z, 2026-11-25T10:00:00Z",
    "2026-11-25T11:00:00.123+01:00, 2026-11-25T10:00:00.123Z",
    "2026-11-25T05:30:00-04:30, 2026-11-25T10:00:00Z",
    "2026-11-25T10:00:00.123456789Z, 2026-11-25T10:00:00.123Z",
    "1795600800123, 2026-11-25T10:00:00.123Z",
    "0, 1970-01-01T00:00:00Z"
  })
  void timestampFormsAreParsedToTheSameInstant(String ts, String expected) {
    long want = Instant.parse(expected).toEpochMilli();
    assertEquals(want, parse(view("\"ts\":\"" + ts + "\"")).event().timestampMillis());
    if (ts.chars().allMatch(Character::isDigit)) {
      assertEquals(want, parse(view("\"ts\":" + ts)).event().timestampMillis());
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "\"ts\":\"2026-11-25T10:00:00\"",
        "\"ts\":\"2026-11-25\"",
        "\"ts\":\"yesterday\"",
        "\"ts\":\"\"",
        "\"ts\":\"2026-13-25T10:00:00Z\"",
        "\"ts\":\"-1764064800123\"",
        "\"ts\":1764064800123.5",
        "\"ts\":true",
        "\"ts\":99999999999999999",
        "\"ts\":-1",
        "\"ts\":\"1969-12-31T23:59:59.999Z\"",
        "\"ts\":\"10000-01-01T00:00:00Z\""
      })
  void invalidTimestampsAreRejected(String tsField) {
    assertRejected(view(tsField), ParseError.INVALID_TIMESTAMP);
  }

  @Test
  void missingTimestampIsAMissingField() {
    assertRejected(view("\"item\":\"x\""), ParseError.MISSING_FIELD);
    assertRejected(view("\"ts\":null"), ParseError.MISSING_FIELD);
  }

  @ParameterizedTest
  @ValueSource(strings = {"event_id", "user_id", "type"})
  void missingRequiredFieldIsRejected(String field) {
    String json = VALID.replaceFirst("\"" + field + "\":\"[^\"]*\",", "");
    assertRejected(json, ParseError.MISSING_FIELD);
    assertTrue(parse(json).detail().contains(field), parse(json)::detail);
  }

  @ParameterizedTest
  @ValueSource(strings = {"event_id", "user_id", "item"})
  void emptyOrBlankStringsAreRejected(String field) {
    assertRejected(
        VALID.replaceFirst("\"" + field + "\":\"[^\"]*\"", "\"" + field + "\":\"\""),
        ParseError.EMPTY_STRING);
    assertRejected(
        VALID.replaceFirst("\"" + field + "\":\"[^\"]*\"", "\"" + field + "\":\"  \""),
        ParseError.EMPTY_STRING);
  }

  @ParameterizedTest
  @ValueSource(strings = {"event_id", "user_id", "type", "item"})
  void nonStringValuesAreWrongTypes(String field) {
    assertRejected(
        VALID.replaceFirst("\"" + field + "\":\"[^\"]*\"", "\"" + field + "\":17"),
        ParseError.WRONG_TYPE);
    assertRejected(
        VALID.replaceFirst("\"" + field + "\":\"[^\"]*\"", "\"" + field + "\":[\"a\"]"),
        ParseError.WRONG_TYPE);
  }

  @ParameterizedTest
  @ValueSource(strings = {"refund", "VIEW", "Purchase", " view", ""})
  void typeOutsideTheFourIsRejected(String type) {
    assertRejected(VALID.replace("\"purchase\"", "\"" + type + "\""), ParseError.INVALID_TYPE);
  }

  @ParameterizedTest
  @ValueSource(strings = {"view", "click", "cart", "purchase"})
  void eachTypeIsAccepted(String type) {
    assertEquals(
        type, parse(VALID.replace("\"purchase\"", "\"" + type + "\"")).event().type().json());
  }

  @ParameterizedTest
  @ValueSource(strings = {"-1", "12.5", "1299.0", "1e3", "92233720368547758070"})
  void amountMustBeANonNegativeInteger(String amount) {
    assertRejected(VALID.replace("1299", amount), ParseError.INVALID_AMOUNT);
  }

  @Test
  void amountAsStringOrBooleanIsAWrongType() {
    assertRejected(VALID.replace("1299", "\"1299\""), ParseError.WRONG_TYPE);
    assertRejected(VALID.replace("1299", "true"), ParseError.WRONG_TYPE);
  }

  @Test
  void zeroAmountIsValid() {
    assertEquals(0L, parse(VALID.replace("1299", "0")).event().amountCents());
  }

  @Test
  void purchaseRequiresAmountAndItem() {
    assertRejected(VALID.replace(",\"amount_cents\":1299", ""), ParseError.MISSING_FIELD);
    assertRejected(VALID.replace("\"item\":\"sku-42\",", ""), ParseError.MISSING_FIELD);
    assertRejected(VALID.replace("\"item\":\"sku-42\"", "\"item\":null"), ParseError.MISSING_FIELD);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{\"event_id\":\"e-1\",\"user_id\":\"u-1\"",
        "{\"event_id\":\"e-1\",",
        "{",
        "not json at all",
        "{\"event_id\":\"e-1\"}}",
        "{\"event_id\":\"e-1\"} {\"a\":1}",
        "{'event_id':'e-1'}",
        "{\"event_id\":\"e-1\",\"event_id\":\"e-2\",\"user_id\":\"u\",\"type\":\"view\",\"ts\":0}",
        "   "
      })
  void malformedJsonIsRejected(String json) {
    assertRejected(json, ParseError.MALFORMED_JSON);
  }

  @ParameterizedTest
  @ValueSource(strings = {"[1,2,3]", "\"a string\"", "42", "null", "true"})
  void jsonThatIsNotAnObjectIsRejected(String json) {
    assertRejected(json, ParseError.NOT_AN_OBJECT);
  }

  @Test
  void emptyAndNullValuesAreRejected() {
    assertEquals(ParseError.EMPTY_RECORD, parse((byte[]) null).error());
    assertEquals("record has no value (a tombstone)", parse((byte[]) null).detail());
    assertEquals(ParseError.EMPTY_RECORD, parse(new byte[0]).error());
  }

  private static String purchaseWith(String eventId, String userId, String item, String amount) {
    return "{\"event_id\":\""
        + eventId
        + "\",\"user_id\":\""
        + userId
        + "\",\"type\":\"purchase\",\"item\":\""
        + item
        + "\",\"amount_cents\":"
        + amount
        + ",\"ts\":\"2026-11-25T10:00:00Z\"}";
  }

  @Test
  void idsUpToTheByteLimitAreAccepted() {
    String ascii = "u".repeat(EventParser.MAX_ID_BYTES);
    String emoji = "\uD83D\uDE00".repeat(EventParser.MAX_ID_BYTES / 4); // 4 bytes each in UTF-8
    Event e = parse(purchaseWith(ascii, emoji, ascii, "1")).event();
    assertEquals(ascii, e.eventId());
    assertEquals(emoji, e.userId());
    assertEquals(EventParser.MAX_ID_BYTES, e.userId().getBytes(StandardCharsets.UTF_8).length);
  }

  @ParameterizedTest
  @ValueSource(strings = {"event_id", "user_id", "item"})
  void idsOverTheByteLimitAreTooLong(String field) {
    String ok = "x";
    String tenKb = "r".repeat(10_000);
    String json =
        purchaseWith(
            field.equals("event_id") ? tenKb : ok,
            field.equals("user_id") ? tenKb : ok,
            field.equals("item") ? tenKb : ok,
            "1");
    assertRejected(json, ParseError.TOO_LONG);
    assertEquals(field + " is 10000 bytes in UTF-8; the limit is 256", parse(json).detail());
    // 257 bytes: one over, counted in UTF-8 bytes rather than characters
    String justOver = "é".repeat(128) + "x";
    assertEquals(ParseError.TOO_LONG, parse(purchaseWith("e", justOver, "i", "1")).error());
  }

  @Test
  void amountsAboveTheCapAreInvalidAndTheCapItselfIsValid() {
    assertEquals(
        EventParser.MAX_AMOUNT_CENTS,
        parse(purchaseWith("e", "u", "i", Long.toString(EventParser.MAX_AMOUNT_CENTS)))
            .event()
            .amountCents());
    EventParser.Result r = parse(purchaseWith("e", "u", "i", Long.toString(Long.MAX_VALUE)));
    assertEquals(ParseError.INVALID_AMOUNT, r.error());
    assertEquals("amount_cents must be at most 100000000000, got 9223372036854775807", r.detail());
    assertEquals(
        ParseError.INVALID_AMOUNT,
        parse(purchaseWith("e", "u", "i", Long.toString(EventParser.MAX_AMOUNT_CENTS + 1)))
            .error());
  }

  @Test
  void jsonNestedTenThousandDeepIsTooDeep() {
    String deepArray = "[".repeat(10_000) + "]".repeat(10_000);
    assertRejected(deepArray, ParseError.TOO_DEEP);
    assertRejected(view("\"ts\":0,\"extra\":" + deepArray), ParseError.TOO_DEEP);
    String deepObject = "{\"a\":".repeat(10_000) + "1" + "}".repeat(10_000);
    assertRejected(deepObject, ParseError.TOO_DEEP);
    assertEquals("JSON nested deeper than 64 levels", parse(deepObject).detail());
    // unterminated: still too deep before it is found malformed
    assertRejected("[".repeat(10_000), ParseError.TOO_DEEP);
  }

  @Test
  void nestingUpToTheLimitIsAccepted() {
    int inner = EventParser.MAX_NESTING_DEPTH - 1; // the event object is the first level
    String nested = "[".repeat(inner) + "]".repeat(inner);
    assertTrue(parse(view("\"ts\":0,\"extra\":" + nested)).isValid());
  }

  @Test
  void valuesOverOneMebibyteAreTooLargeAndNotParsed() {
    byte[] twoMb = new byte[2 << 20];
    java.util.Arrays.fill(twoMb, (byte) '{');
    EventParser.Result r = parse(twoMb);
    assertEquals(ParseError.TOO_LARGE, r.error());
    assertEquals("record value is 2097152 bytes; the limit is 1048576", r.detail());
    byte[] valid = padded(EventParser.MAX_VALUE_BYTES + 1);
    assertEquals(ParseError.TOO_LARGE, parse(valid).error());
  }

  @Test
  void valuesJustUnderTheLimitAreParsed() {
    assertTrue(parse(padded(900 * 1024)).isValid());
    assertTrue(parse(padded(EventParser.MAX_VALUE_BYTES)).isValid());
    byte[] truncated = java.util.Arrays.copyOf(padded(900 * 1024), 900 * 1024 - 10);
    assertEquals(ParseError.MALFORMED_JSON, parse(truncated).error());
  }

  /** A valid view event of exactly {@code size} bytes: an unknown field pads it. */
  private static byte[] padded(int size) {
    String head = "{\"event_id\":\"e-1\",\"user_id\":\"u-1\",\"type\":\"view\",\"ts\":0,\"pad\":\"";
    String tail = "\"}";
    return (head + "p".repeat(size - head.length() - tail.length()) + tail)
        .getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void invalidUtf8SequencesAreRejected() {
    for (byte[] bad :
        new byte[][] {
          {(byte) 0xC0, (byte) 0xAF}, // overlong '/'
          {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, // a lone surrogate
          {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, // above U+10FFFF
          {(byte) 0xE2, (byte) 0x82} // truncated sequence
        }) {
      byte[] value = (view("\"ts\":0,\"x\":\"") + "\"}").getBytes(StandardCharsets.UTF_8);
      byte[] withBad = new byte[value.length + bad.length];
      int at = value.length - 3; // inside the string of "x"
      System.arraycopy(value, 0, withBad, 0, at);
      System.arraycopy(bad, 0, withBad, at, bad.length);
      System.arraycopy(value, at, withBad, at + bad.length, value.length - at);
      EventParser.Result r = parse(withBad);
      assertEquals(ParseError.NOT_UTF8, r.error(), () -> java.util.Arrays.toString(bad));
      assertEquals("record is not valid UTF-8", r.detail());
    }
  }

  @Test
  void utf8LengthCountsBytes() {
    assertEquals(3, EventParser.utf8Length("abc"));
    assertEquals(2, EventParser.utf8Length("é"));
    assertEquals(3, EventParser.utf8Length("☕"));
    assertEquals(4, EventParser.utf8Length("\uD83D\uDE00"));
    assertEquals(3, EventParser.utf8Length("\uD83D"));
  }

  @Test
  void invalidUtf8IsRejected() {
    byte[] bytes = VALID.getBytes(StandardCharsets.UTF_8);
    bytes[30] = (byte) 0xC3; // a lead byte followed by ASCII: not UTF-8
    assertEquals(ParseError.NOT_UTF8, parse(bytes).error());
    assertEquals(
        ParseError.NOT_UTF8,
        parse(new byte[] {(byte) 0xFF, (byte) 0xFE, 0, 1, (byte) 0x80}).error());
  }

  @Test
  void reasonsNameTheFieldAndTheValue() {
    assertEquals(
        "'refund' is not one of view, click, cart, purchase",
        parse(VALID.replace("\"purchase\"", "\"refund\"")).detail());
    assertTrue(parse(VALID.replace("1299", "-5")).detail().contains("-5"));
  }

  @Test
  void utf16EncodedJsonIsRejected() {
    byte[] utf16 = VALID.getBytes(StandardCharsets.UTF_16LE);
    assertEquals(ParseError.NOT_UTF8, parse(utf16).error());
    assertEquals(ParseError.NOT_UTF8, parse(VALID.getBytes(StandardCharsets.UTF_16)).error());
  }

  @Test
  void parserNeverThrowsOnArbitraryBytes() {
    java.util.Random random = new java.util.Random(7);
    for (int i = 0; i < 5_000; i++) {
      byte[] bytes = new byte[random.nextInt(64)];
      random.nextBytes(bytes);
      EventParser.Result r = parse(bytes);
      assertFalse(r.isValid());
    }
  }

  /**
   * The hand-read common form gives exactly what {@code OffsetDateTime.parse} gives, for valid
   * timestamps of every shape it takes (all years, month lengths and leap days, 0–9 fraction
   * digits) and for near-misses of them (each character replaced, dropped or doubled), which must
   * fall through to the full parse and be judged the same.
   */
  @Test
  void plainUtcTimestampsParseExactlyAsIso8601() {
    java.util.Random random = new java.util.Random(7);
    String alphabet = "0123456789-T:.Zz+ x";
    int checked = 0;
    for (int i = 0; i < 20_000; i++) {
      int year = random.nextInt(10_000);
      int month = 1 + random.nextInt(12);
      int day = 1 + random.nextInt(31); // also invalid days (Feb 30, Apr 31)
      int fraction = random.nextInt(10);
      StringBuilder b = new StringBuilder();
      b.append(
          String.format(
              "%04d-%02d-%02dT%02d:%02d:%02d",
              year, month, day, random.nextInt(25), random.nextInt(61), random.nextInt(61)));
      if (fraction > 0) {
        b.append('.');
        for (int f = 0; f < fraction; f++) {
          b.append((char) ('0' + random.nextInt(10)));
        }
      }
      b.append('Z');
      String valid = b.toString();
      assertEquals(EventParser.parseIso(valid), EventParser.parseTimestamp(valid), valid);
      int at = random.nextInt(valid.length());
      String replaced =
          valid.substring(0, at)
              + alphabet.charAt(random.nextInt(alphabet.length()))
              + valid.substring(at + 1);
      String dropped = valid.substring(0, at) + valid.substring(at + 1);
      String doubled = valid.substring(0, at + 1) + valid.substring(at);
      for (String near : new String[] {replaced, dropped, doubled}) {
        if (!near.chars().allMatch(Character::isDigit)) {
          assertEquals(EventParser.parseIso(near), EventParser.parseTimestamp(near), near);
        }
      }
      checked += EventParser.parseIso(valid).isPresent() ? 1 : 0;
    }
    assertTrue(checked > 10_000, "most generated timestamps are valid: " + checked);
    assertEquals(
        Instant.parse("2024-02-29T23:59:59.999Z").toEpochMilli(),
        EventParser.parseTimestamp("2024-02-29T23:59:59.999999999Z").orElseThrow());
  }
}
