package dev.kappabeam.transforms.events;

import dev.kappabeam.transforms.views.ActivityStats;
import dev.kappabeam.transforms.views.ItemStats;
import dev.kappabeam.transforms.views.SessionStats;
import java.nio.charset.StandardCharsets;
import org.apache.beam.sdk.testing.CoderProperties;
import org.junit.jupiter.api.Test;

class CodersTest {
  @Test
  void eventCoderRoundTripsAndIsDeterministic() throws Exception {
    Event full = new Event("e-1", "u-Zoë", EventType.PURCHASE, "sku-日本", 1299L, 1764064800123L);
    Event bare = new Event("e-2", "u-2", EventType.VIEW, null, null, -5L);
    Event amountOnly = new Event("e-3", "u-3", EventType.CART, null, 0L, 0L);
    for (Event e : new Event[] {full, bare, amountOnly}) {
      CoderProperties.coderDecodeEncodeEqual(EventCoder.of(), e);
      CoderProperties.coderDeterministic(
          EventCoder.of(),
          e,
          new Event(
              e.eventId(), e.userId(), e.type(), e.item(), e.amountCents(), e.timestampMillis()));
    }
    CoderProperties.coderSerializable(EventCoder.of());
  }

  /**
   * The event encoding is StringUtf8Coder and VarLongCoder, nested, field by field: Flink state and
   * savepoints hold these bytes, so a faster encoder must write exactly the same.
   */
  @Test
  void eventEncodingIsTheFieldByFieldOne() throws Exception {
    String long300 = "x".repeat(300);
    Event[] events = {
      new Event("e-1", "u-Zoë", EventType.PURCHASE, "sku-日本", 1299L, 1764064800123L),
      new Event("e-2", "u-2", EventType.VIEW, null, null, -5L),
      new Event("e-3", long300, EventType.CART, null, Long.MIN_VALUE, Long.MAX_VALUE),
      new Event("", "\uD800", EventType.PURCHASE, "", -1L, 0L),
    };
    for (Event e : events) {
      java.io.ByteArrayOutputStream expected = new java.io.ByteArrayOutputStream();
      org.apache.beam.sdk.coders.StringUtf8Coder.of().encode(e.eventId(), expected);
      org.apache.beam.sdk.coders.StringUtf8Coder.of().encode(e.userId(), expected);
      expected.write(e.type().ordinal());
      expected.write((e.item() != null ? 1 : 0) | (e.amountCents() != null ? 2 : 0));
      if (e.item() != null) {
        org.apache.beam.sdk.coders.StringUtf8Coder.of().encode(e.item(), expected);
      }
      if (e.amountCents() != null) {
        org.apache.beam.sdk.coders.VarLongCoder.of().encode(e.amountCents(), expected);
      }
      org.apache.beam.sdk.coders.VarLongCoder.of().encode(e.timestampMillis(), expected);
      java.io.ByteArrayOutputStream actual = new java.io.ByteArrayOutputStream();
      EventCoder.of().encode(e, actual);
      org.junit.jupiter.api.Assertions.assertArrayEquals(
          expected.toByteArray(), actual.toByteArray(), e.toString());
      if (!e.userId().startsWith("\uD800")) { // a lone surrogate becomes '?', as it always did
        CoderProperties.coderDecodeEncodeEqual(EventCoder.of(), e);
      }
    }
  }

  @Test
  void bucketListCoderRoundTrips() throws Exception {
    java.util.List<Event> events =
        java.util.List.of(
            new Event("e-1", "u-1", EventType.VIEW, null, null, 1L),
            new Event("e-2", "u-2", EventType.PURCHASE, "i", 7L, 2L));
    DeadLetter dead =
        new DeadLetter(
            new SourceRecord("events", 1, 9L, null, new byte[] {'{'}),
            ParseError.MALFORMED_JSON,
            "unexpected end");
    for (boolean primer : new boolean[] {true, false}) {
      for (java.util.List<DeadLetter> deadLetters :
          java.util.List.of(java.util.List.<DeadLetter>of(), java.util.List.of(dead))) {
        BoundedDedup.Bucketed<Event> b = new BoundedDedup.Bucketed<>(primer, events, deadLetters);
        BoundedDedup.Bucketed<Event> back =
            org.apache.beam.sdk.util.CoderUtils.clone(
                BoundedDedup.coder(ReferenceFormat.of()).getValueCoder(), b);
        org.junit.jupiter.api.Assertions.assertEquals(primer, back.primer);
        org.junit.jupiter.api.Assertions.assertEquals(events, back.events);
        org.junit.jupiter.api.Assertions.assertEquals(deadLetters, back.deadLetters);
      }
    }
  }

  @Test
  void recordAndDeadLetterCodersRoundTrip() throws Exception {
    SourceRecord r =
        new SourceRecord(
            "events", 3, 42L, "u-1".getBytes(StandardCharsets.UTF_8), new byte[] {1, 2});
    SourceRecord tombstone = new SourceRecord("events", 0, 7L, null, null);
    SourceRecord withHeaders =
        new SourceRecord(
            "events",
            1,
            8L,
            new byte[0],
            new byte[] {3},
            java.util.List.of(
                new SourceRecord.Header("trace", new byte[] {1}),
                new SourceRecord.Header("trace", null),
                new SourceRecord.Header("ü", new byte[0])));
    CoderProperties.coderDecodeEncodeEqual(SourceRecord.Coder.of(), r);
    CoderProperties.coderDecodeEncodeEqual(SourceRecord.Coder.of(), tombstone);
    CoderProperties.coderDecodeEncodeEqual(SourceRecord.Coder.of(), withHeaders);
    CoderProperties.coderDeterministic(
        SourceRecord.Coder.of(),
        withHeaders,
        new SourceRecord("events", 1, 8L, new byte[0], new byte[] {3}, withHeaders.headers()));
    CoderProperties.coderDecodeEncodeEqual(
        DeadLetter.Coder.of(), new DeadLetter(r, ParseError.MALFORMED_JSON, "truncated"));
  }

  @Test
  void statsCodersRoundTripIncludingEmptyAccumulators() throws Exception {
    ActivityStats a = new ActivityStats();
    CoderProperties.coderDecodeEncodeEqual(ActivityStats.StatsCoder.of(), a);
    a.add(new Event("e-1", "u-b", EventType.PURCHASE, "i", 5L, 1L));
    a.add(new Event("e-2", "u-a", EventType.VIEW, null, null, 2L));
    CoderProperties.coderDecodeEncodeEqual(ActivityStats.StatsCoder.of(), a);
    CoderProperties.coderDecodeEncodeEqual(ItemStats.StatsCoder.of(), new ItemStats());
    CoderProperties.coderDecodeEncodeEqual(SessionStats.StatsCoder.of(), new SessionStats());
    CoderProperties.coderDecodeEncodeEqual(
        SessionStats.StatsCoder.of(),
        new SessionStats().add(new Event("e-1", "u", EventType.CLICK, null, null, 10L)));
  }
}
