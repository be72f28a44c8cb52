package dev.kappabeam.transforms.views;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import dev.kappabeam.transforms.events.Event;
import dev.kappabeam.transforms.events.EventCoder;
import dev.kappabeam.transforms.events.EventType;
import dev.kappabeam.transforms.time.ViewWindowing;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.TimestampedValue;
import org.joda.time.Duration;
import org.joda.time.Instant;
import org.junit.Rule;
import org.junit.Test;

/**
 * {@link CombineSessions} against Beam's {@code Combine.perKey} over the same session-windowed
 * stream: for every key and session window the last pane of each holds the same events, with
 * out-of-order events, late events within the lateness that extend or bridge sessions, early panes,
 * and few or many keys. Pane timings and the final pane are checked through the reference view in
 * {@code UserSessionsTest}.
 */
public class CombineSessionsTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();

  /** Bundles of {@code perBundle} events over {@code users} keys, 5% behind the watermark. */
  private static TestStream<KV<String, Event>> stream(int users, int bundles, int perBundle) {
    return stream(users, bundles, perBundle, 100);
  }

  /** ... with the late events at most {@code maxLateSeconds} behind the watermark. */
  private static TestStream<KV<String, Event>> stream(
      int users, int bundles, int perBundle, int maxLateSeconds) {
    return PreAggregatedCombineTest.keyedStream(
        users * 31L + bundles, users, bundles, perBundle, maxLateSeconds, 5);
  }

  private void assertSameLastPanes(
      TestStream<KV<String, Event>> stream, ViewWindowing<KV<String, Event>> windowing) {
    assertSameLastPanes(p.apply(stream).apply("Window", windowing), windowing);
    p.run().waitUntilFinish();
  }

  /** Both combines on {@code windowed}; asserts the last panes match; returns ours, described. */
  private static PCollection<String> assertSameLastPanes(
      PCollection<KV<String, Event>> windowed, ViewWindowing<KV<String, Event>> windowing) {
    PCollection<String> plain =
        windowed
            .apply("Plain", Combine.perKey(new PreAggregatedCombineTest.IdsFn()))
            .apply("DescribePlain", ParDo.of(new PreAggregatedCombineTest.DescribeFn("plain")));
    PCollection<String> own =
        windowed
            .apply(
                "Own",
                CombineSessions.of(
                    new PreAggregatedCombineTest.IdsFn(),
                    windowing.allowedLateness(),
                    windowing.earlyFiringInterval()))
            .apply("DescribeOwn", ParDo.of(new PreAggregatedCombineTest.DescribeFn("own")));
    PAssert.that(PCollectionList.of(plain).and(own).apply(Flatten.pCollections()))
        .satisfies(PreAggregatedCombineTest.sameLastPanes("plain", "own"));
    return own;
  }

  @Test
  public void sessionsMergedAcrossBundlesAndByLateEventsMatchCombinePerKey() {
    assertSameLastPanes(
        stream(12, 30, 40),
        ViewWindowing.<KV<String, Event>>sessions(Duration.standardSeconds(10))
            .withAllowedLateness(Duration.standardMinutes(2)));
  }

  @Test
  public void earlyPanesMatchCombinePerKey() {
    assertSameLastPanes(
        stream(12, 30, 40),
        ViewWindowing.<KV<String, Event>>sessions(Duration.standardSeconds(10))
            .withAllowedLateness(Duration.standardMinutes(2))
            .withEarlyFirings(Duration.standardSeconds(1)));
  }

  @Test
  public void manyKeysWithLongSessionsMatchCombinePerKey() {
    // 200 keys, sessions that often bridge bundles and are extended by late events.
    assertSameLastPanes(
        stream(200, 12, 300),
        ViewWindowing.<KV<String, Event>>sessions(Duration.standardMinutes(1))
            .withAllowedLateness(Duration.standardMinutes(3))
            .withEarlyFirings(Duration.standardSeconds(1)));
  }

  @Test
  public void zeroLatenessClosesEachSessionWithItsOnTimePane() {
    // Late events at most 30 s behind the watermark, a gap of 40 s: none is droppable (which
    // SplitLateEvents sees to in the views; CombineSessions alone would count it).
    assertSameLastPanes(
        stream(60, 30, 40, 30),
        ViewWindowing.<KV<String, Event>>sessions(Duration.standardSeconds(40))
            .withAllowedLateness(Duration.ZERO));
  }

  @Test
  public void boundedInputGivesEachSessionOnceAsCombinePerKey() {
    // 200 keys, 20 events each over 20 minutes, a gap of 1 minute: sessions of one event and of
    // many; a random reshuffle spreads each key's events over many bundles, so the sessions are
    // merged from partials of different bundles. (No early firings here: Beam's combine may fire
    // early panes of sessions that later merge; ours fires each final session once.)
    Random random = new Random(42);
    List<TimestampedValue<KV<String, Event>>> events = new ArrayList<>();
    for (int i = 0; i < 4_000; i++) {
      String user = "u-" + random.nextInt(200);
      long ts = T0.getMillis() + random.nextInt(20 * 60_000);
      events.add(
          TimestampedValue.of(
              KV.of(user, new Event("e-" + i, user, EventType.VIEW, null, null, ts)),
              new Instant(ts)));
    }
    ViewWindowing<KV<String, Event>> windowing =
        ViewWindowing.<KV<String, Event>>sessions(Duration.standardMinutes(1))
            .withAllowedLateness(Duration.standardHours(1));
    PCollection<KV<String, Event>> windowed =
        p.apply(
                Create.timestamped(events)
                    .withCoder(KvCoder.of(StringUtf8Coder.of(), EventCoder.of())))
            .apply("Spread", Reshuffle.viaRandomKey())
            .apply("Window", windowing);
    assertEquals(PCollection.IsBounded.BOUNDED, windowed.isBounded());
    PCollection<String> own = assertSameLastPanes(windowed, windowing);
    PAssert.that(own)
        .satisfies(
            panes -> {
              Set<String> seen = new HashSet<>();
              for (String pane : panes) {
                String[] f = pane.split("\\|", 5);
                assertTrue("one pane per session: " + pane, seen.add(f[1] + "|" + f[2]));
                assertEquals("only pane has index 0: " + pane, "0", f[3]);
              }
              return null;
            });
    p.run().waitUntilFinish();
  }

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
}
