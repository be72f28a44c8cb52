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
