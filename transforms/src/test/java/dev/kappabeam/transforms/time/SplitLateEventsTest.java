package dev.kappabeam.transforms.time;

import static dev.kappabeam.transforms.TestRecords.at;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import dev.kappabeam.transforms.CounterNames;
import dev.kappabeam.transforms.PipelineCounters;
import dev.kappabeam.transforms.events.Event;
import dev.kappabeam.transforms.events.EventCoder;
import dev.kappabeam.transforms.events.EventType;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.transforms.windowing.IntervalWindow;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TimestampedValue;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Duration;
import org.joda.time.Instant;
import org.junit.Rule;
import org.junit.Test;

/**
 * {@link SplitLateEvents} on many shards: every shard compares with the same watermark bound,
 * whether or not it has seen an event, and its on-time output is never dropped by a window with the
 * same lateness.
 */
public class SplitLateEventsTest {
  private static final Duration LATENESS = Duration.standardHours(1);

  @Rule public final transient TestPipeline p = TestPipeline.create();

  private static Event event(String id, Instant ts) {
    return new Event(id, "u-1", EventType.VIEW, null, null, ts.getMillis());
  }

  /** An event stamped with its event time (shared with {@link DeduplicateAndSplitLateTest}). */
  static TimestampedValue<Event> stamped(Event e) {
    return TimestampedValue.of(e, new Instant(e.timestampMillis()));
  }

  /** An event_id of the given shard, so a test can place events on shards it chooses. */
  private static String idOnShard(String prefix, int shard, int shards) {
    for (int i = 0; ; i++) {
      String id = prefix + "-" + i;
      if (SplitLateEvents.shardOf(id, shards) == shard) {
        return id;
      }
    }
  }

  /** {@code count} events at {@code ts}, {@code ts + 1s}, ..., one per shard 0, 1, 2, .... */
  private static List<Event> onDistinctShards(String prefix, int count, int shards, Instant ts) {
    List<Event> out = new ArrayList<>();
    for (int s = 0; s < count; s++) {
      out.add(event(idOnShard(prefix, s, shards), ts.plus(Duration.standardSeconds(s))));
    }
    return out;
  }

  @SuppressWarnings({"unchecked", "rawtypes"}) // TestStream.addElements takes generic varargs
  static TestStream.Builder<Event> add(TestStream.Builder<Event> stream, List<Event> es) {
    TimestampedValue<Event>[] rest = new TimestampedValue[es.size() - 1];
    for (int i = 1; i < es.size(); i++) {
      rest[i - 1] = stamped(es.get(i));
    }
    return stream.addElements(stamped(es.get(0)), rest);
  }

  private static TestStream.Builder<Event> stream() {
    return TestStream.create(EventCoder.of());
  }

  static List<String> ids(List<Event> events) {
    List<String> out = new ArrayList<>();
    events.forEach(e -> out.add(e.eventId()));
    return out;
  }

  static PCollection<String> idsOf(PCollection<Event> events, String name) {
    return events.apply(
        name,
        org.apache.beam.sdk.transforms.MapElements.into(TypeDescriptors.strings())
            .via(Event::eventId));
  }

  @Test
  public void eventsWithinTheLatenessAreKeptOnEveryShard() {
    int shards = 64;
    Event first = event(idOnShard("first", 0, shards), at(0, 10));
    List<Event> late = onDistinctShards("late", 40, shards, at(0, 20));
    PCollectionTuple out =
        p.apply(
                add(add(stream(), List.of(first)).advanceWatermarkTo(at(5, 0)), late)
                    .advanceWatermarkToInfinity())
            .apply(SplitLateEvents.withAllowedLateness(LATENESS).withShards(shards));

    List<String> expected = new ArrayList<>(ids(late));
    expected.add(first.eventId());
    PAssert.that(idsOf(out.get(SplitLateEvents.ON_TIME), "OnTimeIds")).containsInAnyOrder(expected);
    PAssert.that(out.get(SplitLateEvents.LATE)).empty();
    PipelineResult result = p.run();
    assertEquals(0, PipelineCounters.get(result, CounterNames.LATE));
  }

  @Test
  public void eventsBeyondTheLatenessGoToTheLateOutputOfEveryShardAndAreCounted() {
    int shards = 64;
    Event first = event(idOnShard("first", 0, shards), at(0, 10));
    // 90 minutes on, events of minute 0 are more than the hour of lateness behind.
    List<Event> tooLate = onDistinctShards("too-late", 40, shards, at(0, 20));
    PCollectionTuple out =
        p.apply(
                add(add(stream(), List.of(first)).advanceWatermarkTo(at(90, 0)), tooLate)
                    .advanceWatermarkToInfinity())
            .apply(SplitLateEvents.withAllowedLateness(LATENESS).withShards(shards));

    PAssert.that(idsOf(out.get(SplitLateEvents.ON_TIME), "OnTimeIds"))
        .containsInAnyOrder(first.eventId());
    PAssert.that(idsOf(out.get(SplitLateEvents.LATE), "LateIds")).containsInAnyOrder(ids(tooLate));
    PipelineResult result = p.run();
    assertEquals(tooLate.size(), PipelineCounters.get(result, CounterNames.LATE));
  }

  @Test
  public void shardsThatSawNoEventDecideAsTheShardThatDid() {
    // Only shard 0 has seen an event when the watermark jumps; the others learn the bound all the
    // same, so the same event time gets the same verdict on every shard.
    int shards = 256;
    Event first = event(idOnShard("first", 0, shards), at(0, 10));
    Event tooLateOnSeenShard = event(idOnShard("seen-too-late", 0, shards), at(0, 30));
    Event tooLateElsewhere = event(idOnShard("other-too-late", 77, shards), at(0, 30));
    Event keptElsewhere = event(idOnShard("other-kept", 201, shards), at(85, 0));
    PCollectionTuple out =
        p.apply(
                add(
                        add(stream(), List.of(first)).advanceWatermarkTo(at(90, 0)),
                        List.of(tooLateOnSeenShard, tooLateElsewhere, keptElsewhere))
                    .advanceWatermarkToInfinity())
            .apply(SplitLateEvents.withAllowedLateness(LATENESS).withShards(shards));

    PAssert.that(idsOf(out.get(SplitLateEvents.ON_TIME), "OnTimeIds"))
        .containsInAnyOrder(first.eventId(), keptElsewhere.eventId());
    PAssert.that(idsOf(out.get(SplitLateEvents.LATE), "LateIds"))
        .containsInAnyOrder(tooLateOnSeenShard.eventId(), tooLateElsewhere.eventId());
    PipelineResult result = p.run();
    assertEquals(2, PipelineCounters.get(result, CounterNames.LATE));
  }

  @Test
  public void lateEventOnAnIdleShardUpdatesTheFiredWindowAndTooLateOneIsCounted() {
    // 128 shards, and each event on a shard of its own: if a shard that saw nothing held the
    // watermark back, the window would not have fired before the late event, and the late event
    // would land in the on-time pane.
    int shards = 128;
    Event onTime = event(idOnShard("on-time", 3, shards), at(0, 10));
    Event lateWithinLateness = event(idOnShard("late", 90, shards), at(0, 30));
    Event tooLate = event(idOnShard("too-late", 120, shards), at(0, 40));
    PCollectionTuple out =
        p.apply(
                add(
                        add(
                                add(stream(), List.of(onTime)).advanceWatermarkTo(at(5, 0)),
                                List.of(lateWithinLateness))
                            .advanceWatermarkTo(at(90, 0)),
                        List.of(tooLate))
                    .advanceWatermarkToInfinity())
            .apply(SplitLateEvents.withAllowedLateness(LATENESS).withShards(shards));

    PCollection<KV<String, Long>> counts =
        out.get(SplitLateEvents.ON_TIME)
            .apply(WithKeys.of("all"))
            .apply(
                ViewWindowing.<KV<String, Event>>fixed(Duration.standardMinutes(1))
                    .withAllowedLateness(LATENESS))
            .apply(Count.perKey());
    IntervalWindow minute0 = new IntervalWindow(at(0, 0), at(1, 0));
    PAssert.that(counts).inOnTimePane(minute0).containsInAnyOrder(List.of(KV.of("all", 1L)));
    PAssert.that(counts).inFinalPane(minute0).containsInAnyOrder(List.of(KV.of("all", 2L)));
    PAssert.that(idsOf(out.get(SplitLateEvents.LATE), "LateIds"))
        .containsInAnyOrder(tooLate.eventId());
    PipelineResult result = p.run();
    assertEquals(1, PipelineCounters.get(result, CounterNames.LATE));
  }

  @Test
  public void boundedInputHasNoLateEvents() {
    List<Event> events =
        List.of(event("e-1", at(0, 10)), event("e-2", at(300, 0)), event("e-3", at(0, 5)));
    List<TimestampedValue<Event>> stampedEvents = new ArrayList<>();
    events.forEach(e -> stampedEvents.add(stamped(e)));
    PCollectionTuple out =
        p.apply(Create.timestamped(stampedEvents).withCoder(EventCoder.of()))
            .apply(SplitLateEvents.withAllowedLateness(Duration.ZERO));

    PAssert.that(out.get(SplitLateEvents.ON_TIME)).containsInAnyOrder(events);
    PAssert.that(out.get(SplitLateEvents.LATE)).empty();
    p.run();
  }

  @Test
  public void eventIdsSpreadEvenlyOverTheShards() {
    int shards = SplitLateEvents.DEFAULT_SHARDS;
    int[] perShard = new int[shards];
    int n = 200_000;
    for (int i = 0; i < n; i++) {
      perShard[SplitLateEvents.shardOf(String.format("e-%08d", i), shards)]++;
    }
    int mean = n / shards;
    for (int s = 0; s < shards; s++) {
      assertTrue("shard " + s + " got " + perShard[s], Math.abs(perShard[s] - mean) < mean / 10);
    }
  }

  @Test
  public void theDefaultSpreadsOverManyShards() {
    SplitLateEvents split = SplitLateEvents.withAllowedLateness(LATENESS);
    assertEquals(SplitLateEvents.DEFAULT_SHARDS, split.shards());
    assertTrue(split.shards() >= 64);
    Set<Integer> used = new HashSet<>();
    for (int i = 0; i < 10_000; i++) {
      used.add(SplitLateEvents.shardOf("e-" + i, split.shards()));
    }
    assertEquals(split.shards(), used.size());
  }

  @Test
  public void shardsMustBePositive() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> SplitLateEvents.withAllowedLateness(LATENESS).withShards(0));
    assertTrue(e.getMessage(), e.getMessage().contains("shards must be >= 1"));
  }
}
