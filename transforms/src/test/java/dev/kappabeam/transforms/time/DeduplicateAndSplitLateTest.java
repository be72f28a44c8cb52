package dev.kappabeam.transforms.time;

import static dev.kappabeam.transforms.TestRecords.at;
import static dev.kappabeam.transforms.time.SplitLateEventsTest.add;
import static dev.kappabeam.transforms.time.SplitLateEventsTest.ids;
import static dev.kappabeam.transforms.time.SplitLateEventsTest.idsOf;
import static dev.kappabeam.transforms.time.SplitLateEventsTest.stamped;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import dev.kappabeam.transforms.CounterNames;
import dev.kappabeam.transforms.PipelineCounters;
import dev.kappabeam.transforms.events.Event;
import dev.kappabeam.transforms.events.EventCoder;
import dev.kappabeam.transforms.events.EventType;
import dev.kappabeam.transforms.events.StreamDedup;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.joda.time.Duration;
import org.joda.time.Instant;
import org.junit.Rule;
import org.junit.Test;

/**
 * {@link SplitLateEvents#afterDeduplication}: one keyed step (per de-duplication bucket) that
 * removes copies within the horizon and splits the first copies into on time and late, with the
 * counters of {@code DeduplicateEvents} and {@code SplitLateEvents}.
 */
public class DeduplicateAndSplitLateTest {
  private static final Duration LATENESS = Duration.standardHours(1);
  private static final Duration HORIZON = Duration.standardMinutes(10);

  @Rule public final transient TestPipeline p = TestPipeline.create();

  private static Event event(String id, Instant ts) {
    return new Event(id, "u-" + id, EventType.VIEW, null, null, ts.getMillis());
  }

  private static Event conflictingCopy(Event e) {
    return new Event(e.eventId(), "someone-else", EventType.VIEW, null, null, e.timestampMillis());
  }

  private static SplitLateEvents<Event> fused() {
    return SplitLateEvents.withAllowedLateness(LATENESS).afterDeduplication(HORIZON);
  }

  /** {@code n} events at {@code ts} + i seconds. */
  private static List<Event> events(String prefix, int n, Instant ts) {
    List<Event> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(event(prefix + "-" + i, ts.plus(Duration.standardSeconds(i))));
    }
    return out;
  }

  @Test
  public void copiesAreRemovedAndFirstCopiesSplitOnEveryBucket() {
    // 600 ids over most of the 1,024 buckets; every third is sent twice, every ninth a third time
    // with other content. Then the watermark jumps 90 minutes: a batch of new ids of minute 0 is
    // more than the hour of lateness behind it.
    List<Event> first = events("e", 600, at(0, 0));
    List<Event> copies = new ArrayList<>();
    int conflicting = 0;
    for (int i = 0; i < first.size(); i += 3) {
      copies.add(first.get(i));
      if (i % 9 == 0) {
        copies.add(conflictingCopy(first.get(i)));
        conflicting++;
      }
    }
    List<Event> tooLate = events("too-late", 50, at(0, 0));
    Set<Integer> buckets = new HashSet<>();
    first.forEach(e -> buckets.add(StreamDedup.bucketOf(e.eventId())));
    assertTrue("ids spread over buckets: " + buckets.size(), buckets.size() > 400);

    PCollectionTuple out =
        p.apply(
                add(
                        add(add(TestStream.create(EventCoder.of()), first), copies)
                            .advanceWatermarkTo(at(90, 0)),
                        tooLate)
                    .advanceWatermarkToInfinity())
            .apply(fused());

    PAssert.that(idsOf(out.get(SplitLateEvents.ON_TIME), "OnTimeIds"))
        .containsInAnyOrder(ids(first));
    PAssert.that(idsOf(out.get(SplitLateEvents.LATE), "LateIds")).containsInAnyOrder(ids(tooLate));
    PipelineResult result = p.run();
    assertEquals(copies.size(), PipelineCounters.get(result, CounterNames.DUPLICATES_REMOVED));
    assertEquals(conflicting, PipelineCounters.get(result, CounterNames.DUPLICATES_CONFLICTING));
    assertEquals(tooLate.size(), PipelineCounters.get(result, CounterNames.LATE));
  }

  @Test
  public void aCopyAfterTheHorizonIsCountedAgainAndJudgedByItsLateness() {
    // The horizon (10 min, swept per slot of 37.5 s) has passed for e-1 when its copy arrives;
    // the copy is a new first copy, and 30 minutes behind the watermark is within the hour.
    Event e1 = event("e-1", at(0, 10));
    PCollectionTuple out =
        p.apply(
                add(
                        add(TestStream.create(EventCoder.of()), List.of(e1))
                            .advanceWatermarkTo(at(30, 0)),
                        List.of(e1))
                    .advanceWatermarkToInfinity())
            .apply(fused());

    PAssert.that(idsOf(out.get(SplitLateEvents.ON_TIME), "OnTimeIds"))
        .containsInAnyOrder("e-1", "e-1");
    PAssert.that(out.get(SplitLateEvents.LATE)).empty();
    PipelineResult result = p.run();
    assertEquals(0, PipelineCounters.get(result, CounterNames.DUPLICATES_REMOVED));
    assertEquals(0, PipelineCounters.get(result, CounterNames.LATE));
  }

  @Test
  public void aLateEventWithinTheLatenessReachesTheViewsOnce() {
    // Watermark at minute 50: an event of minute 0 (and its copy) is within the hour.
    Event onTime = event("on-time", at(0, 10));
    Event late = event("late", at(0, 30));
    PCollectionTuple out =
        p.apply(
                add(
                        add(TestStream.create(EventCoder.of()), List.of(onTime))
                            .advanceWatermarkTo(at(50, 0)),
                        List.of(late, late))
                    .advanceWatermarkToInfinity())
            .apply(fused());

    PAssert.that(idsOf(out.get(SplitLateEvents.ON_TIME), "OnTimeIds"))
        .containsInAnyOrder("on-time", "late");
    PAssert.that(out.get(SplitLateEvents.LATE)).empty();
    PipelineResult result = p.run();
    assertEquals(1, PipelineCounters.get(result, CounterNames.DUPLICATES_REMOVED));
  }

  @Test
  public void boundedInputIsDeduplicatedExactlyAndNothingIsLate() {
    Event a = event("a", at(0, 10));
    Event b = event("b", at(300, 0));
    PCollectionTuple out =
        p.apply(
                Create.timestamped(List.of(stamped(a), stamped(b), stamped(a)))
                    .withCoder(EventCoder.of()))
            .apply(fused());

    PAssert.that(out.get(SplitLateEvents.ON_TIME)).containsInAnyOrder(a, b);
    PAssert.that(out.get(SplitLateEvents.LATE)).empty();
    PipelineResult result = p.run();
    assertEquals(1, PipelineCounters.get(result, CounterNames.DUPLICATES_REMOVED));
  }
}
