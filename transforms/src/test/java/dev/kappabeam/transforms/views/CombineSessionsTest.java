package dev.kappabeam.transforms.views;

import dev.kappabeam.transforms.events.Event;
import dev.kappabeam.transforms.events.EventCoder;
import dev.kappabeam.transforms.events.EventType;
import dev.kappabeam.transforms.time.ViewWindowing;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.ParDo;
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

  private static final Instant T0 = Instant.parse("2026-11-25T10:00:00Z");

  /** Bundles of {@code perBundle} events over {@code users} keys, 5% behind the watermark. */
  private static TestStream<KV<String, Event>> stream(int users, int bundles, int perBundle) {
    return stream(users, bundles, perBundle, 100);
  }

  /** ... with the late events at most {@code maxLateSeconds} behind the watermark. */
  private static TestStream<KV<String, Event>> stream(
      int users, int bundles, int perBundle, int maxLateSeconds) {
    Random random = new Random(users * 31L + bundles);
    TestStream.Builder<KV<String, Event>> s =
        TestStream.create(KvCoder.of(StringUtf8Coder.of(), EventCoder.of()));
    Instant watermark = T0;
    int id = 0;
    for (int bundle = 0; bundle < bundles; bundle++) {
      List<TimestampedValue<KV<String, Event>>> events = new ArrayList<>();
      for (int i = 0; i < perBundle; i++) {
        Instant ts = watermark.plus(Duration.standardSeconds(random.nextInt(90)));
        if (random.nextInt(20) == 0) {
          ts = watermark.minus(Duration.standardSeconds(1 + random.nextInt(maxLateSeconds)));
        }
        String user = "u-" + random.nextInt(users);
        Event e = new Event("e-" + id++, user, EventType.VIEW, null, null, ts.getMillis());
        events.add(TimestampedValue.of(KV.of(user, e), ts));
      }
      s =
          s.addElements(
              events.get(0), events.subList(1, events.size()).toArray(new TimestampedValue[0]));
      watermark = watermark.plus(Duration.standardSeconds(30));
      s = s.advanceWatermarkTo(watermark);
      if (bundle % 5 == 4) {
        s = s.advanceProcessingTime(Duration.standardSeconds(5));
      }
    }
    return s.advanceWatermarkToInfinity();
  }

  private void assertSameLastPanes(
      TestStream<KV<String, Event>> stream, ViewWindowing<KV<String, Event>> windowing) {
    PCollection<KV<String, Event>> windowed = p.apply(stream).apply("Window", windowing);
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
    p.run().waitUntilFinish();
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
}
