package dev.kappabeam.transforms.views;

import dev.kappabeam.transforms.events.Event;
import dev.kappabeam.transforms.time.ViewWindowing;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.joda.time.Duration;
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
