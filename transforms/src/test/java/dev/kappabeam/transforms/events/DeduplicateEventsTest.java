package dev.kappabeam.transforms.events;

import static dev.kappabeam.transforms.TestRecords.at;
import static org.junit.Assert.assertEquals;

import dev.kappabeam.transforms.CounterNames;
import dev.kappabeam.transforms.PipelineCounters;
import java.util.List;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TimestampedValue;
import org.joda.time.Duration;
import org.joda.time.Instant;
import org.junit.Rule;
import org.junit.Test;

/** {@link DeduplicateEvents}: exact on bounded input, within the horizon on a stream. */
public class DeduplicateEventsTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();

  private static Event view(String id, Instant ts) {
    return new Event(id, "u-1", EventType.VIEW, null, null, ts.getMillis());
  }

  private static TimestampedValue<Event> stamped(Event e) {
    return TimestampedValue.of(e, new Instant(e.timestampMillis()));
  }

  @Test
  public void boundedInputIsExactlyDeduplicatedHoweverFarApartTheCopies() {
    Event a = view("e-1", at(0, 0));
    Event b = view("e-2", at(0, 1));
    PCollection<Event> out =
        p.apply(
                Create.timestamped(
                        List.of(stamped(a), stamped(b), stamped(a), stamped(b), stamped(a)))
                    .withCoder(EventCoder.of()))
            .apply(Events.deduplicate().withHorizon(Duration.standardMinutes(1)));
    PAssert.that(out).containsInAnyOrder(a, b);
    PipelineResult result = p.run();
    assertEquals(3, PipelineCounters.get(result, CounterNames.DUPLICATES_REMOVED));
    assertEquals(0, PipelineCounters.get(result, CounterNames.DUPLICATES_CONFLICTING));
  }

  @Test
  public void conflictingCopyIsRemovedAndCountedAsConflicting() {
    Event a = view("e-1", at(0, 0));
    Event changed = new Event("e-1", "u-9", EventType.CLICK, null, null, at(0, 0).getMillis());
    PCollection<Event> out =
        p.apply(
                TestStream.create(EventCoder.of())
                    .addElements(stamped(a))
                    .addElements(stamped(changed))
                    .advanceWatermarkToInfinity())
            .apply(Events.deduplicate());
    PAssert.that(out).containsInAnyOrder(a);
    PipelineResult result = p.run();
    assertEquals(1, PipelineCounters.get(result, CounterNames.DUPLICATES_REMOVED));
    assertEquals(1, PipelineCounters.get(result, CounterNames.DUPLICATES_CONFLICTING));
  }

  @Test
  public void streamCopyWithinHorizonIsRemovedAndOneBeyondItIsKept() {
    Event a = view("e-1", at(0, 0));
    Event b = view("e-2", at(0, 30));
    PCollection<Event> out =
        p.apply(
                TestStream.create(EventCoder.of())
                    .addElements(stamped(a), stamped(b))
                    .advanceWatermarkTo(at(4, 0))
                    .addElements(stamped(a)) // within the 5-minute horizon: removed
                    .advanceWatermarkTo(at(20, 0))
                    .addElements(stamped(b)) // horizon passed: state forgotten, kept again
                    .advanceWatermarkToInfinity())
            .apply(Events.deduplicate().withHorizon(Duration.standardMinutes(5)));
    PAssert.that(out).containsInAnyOrder(a, b, b);
    PipelineResult result = p.run();
    assertEquals(1, PipelineCounters.get(result, CounterNames.DUPLICATES_REMOVED));
  }

  /** Ids of one hash bucket of the streaming de-duplication, distinct, beginning with prefix. */
  private static List<String> idsOfOneBucket(String prefix, int n) {
    List<String> out = new java.util.ArrayList<>();
    int bucket = StreamDedup.bucketOf(prefix + 0);
    for (int i = 0; out.size() < n; i++) {
      if (StreamDedup.bucketOf(prefix + i) == bucket) {
        out.add(prefix + i);
      }
    }
    return out;
  }

  /**
   * Streaming state is kept per hash bucket and swept per slot (a sixteenth of the horizon): with a
   * 16-minute horizon, an id is forgotten once the watermark passes the end of the minute slot
   * holding its first copy's time plus 16 minutes. Three ids of one bucket expire at different
   * slots, the second one out of order (its slot comes before the timer already set), so the
   * bucket's single timer must be moved earlier and then re-armed for the ids still remembered.
   */
  @Test
  public void streamIdsOfOneBucketAreForgottenSlotBySlot() {
    List<String> ids = idsOfOneBucket("e-", 3);
    Event early = view(ids.get(0), at(0, 40)); // forget at 16:40, swept at the end of 17:00
    Event later = view(ids.get(1), at(0, 10)); // out of order: 16:10, swept at 17:00 too
    Event last = view(ids.get(2), at(5, 0)); // 21:00
    PCollection<Event> out =
        p.apply(
                TestStream.create(EventCoder.of())
                    .addElements(stamped(last)) // the bucket's timer: 21:00
                    .addElements(stamped(early)) // moved earlier: 17:00
                    .addElements(stamped(later))
                    .advanceWatermarkTo(at(16, 50))
                    // the watermark passed 16:40 but not the end of its slot: still a copy
                    .addElements(stamped(early))
                    .advanceWatermarkTo(at(17, 30))
                    // slot 17:00 swept: early and later forgotten, last still remembered
                    .addElements(stamped(early), stamped(later), stamped(last))
                    .advanceWatermarkTo(at(30, 0))
                    // the 17:00 sweep again (re-set by early), then the re-armed 21:00 one
                    .addElements(stamped(last), stamped(early))
                    .advanceWatermarkToInfinity())
            .apply(Events.deduplicate().withHorizon(Duration.standardMinutes(16)));
    PAssert.that(out).containsInAnyOrder(early, last, later, early, later, last, early);
    PipelineResult result = p.run();
    assertEquals(2, PipelineCounters.get(result, CounterNames.DUPLICATES_REMOVED));
  }

  /** Many ids over all buckets, each sent up to three times, some copies with other content. */
  @Test
  public void streamKeepsOneCopyOfEveryIdAcrossBuckets() {
    TestStream.Builder<Event> stream = TestStream.create(EventCoder.of());
    List<Event> firsts = new java.util.ArrayList<>();
    long removed = 0;
    long conflicting = 0;
    for (int round = 0; round < 3; round++) {
      List<TimestampedValue<Event>> batch = new java.util.ArrayList<>();
      for (int i = 0; i < 3000; i++) {
        Event e = view("id-" + i, at(0, i % 60));
        if (round == 0) {
          firsts.add(e);
        } else if (i % (round + 1) == 0) {
          if (round == 2 && i % 9 == 0) {
            e = new Event(e.eventId(), "u-other", EventType.VIEW, null, null, e.timestampMillis());
            conflicting++;
          }
          removed++;
        } else {
          continue;
        }
        batch.add(stamped(e));
      }
      stream = addAll(stream, batch).advanceWatermarkTo(at(1, round * 10));
    }
    PCollection<Event> out =
        p.apply(stream.advanceWatermarkToInfinity())
            .apply(Events.deduplicate().withHorizon(Duration.standardHours(1)));
    PAssert.that(out).containsInAnyOrder(firsts);
    PipelineResult result = p.run();
    assertEquals(removed, PipelineCounters.get(result, CounterNames.DUPLICATES_REMOVED));
    assertEquals(conflicting, PipelineCounters.get(result, CounterNames.DUPLICATES_CONFLICTING));
  }

  /**
   * A long stream whose buckets sweep while new ids keep arriving (2,400 ids over 40 minutes of
   * event time, four times the horizon, so sweeps start from the fourth batch): the watermark
   * follows the events batch by batch, so expiry timers fire in the same bundles as first copies
   * and copies; every copy comes 30 s after its first (well within the 10-minute horizon) and is
   * removed, every first copy passes, and the counter says so.
   */
  @Test
  public void streamSweepsWhileIdsArriveLoseNoFirstCopy() {
    TestStream.Builder<Event> stream = TestStream.create(EventCoder.of());
    List<Event> firsts = new java.util.ArrayList<>();
    List<TimestampedValue<Event>> pendingCopies = new java.util.ArrayList<>();
    long removed = 0;
    int id = 0;
    for (int batch = 0; batch < 8; batch++) {
      List<TimestampedValue<Event>> elements = new java.util.ArrayList<>(pendingCopies);
      pendingCopies.clear();
      for (int i = 0; i < 300; i++, id++) {
        Event e = view("s-" + id, at(0, 0).plus(Duration.standardSeconds(id)));
        firsts.add(e);
        elements.add(stamped(e));
        if (id % 7 == 0) {
          Event copy = view(e.eventId(), new Instant(e.timestampMillis()).plus(30_000));
          pendingCopies.add(stamped(copy));
          removed++;
        }
      }
      stream =
          addAll(stream, elements)
              .advanceWatermarkTo(at(0, 0).plus(Duration.standardSeconds(id - 60L)));
    }
    if (!pendingCopies.isEmpty()) {
      stream = addAll(stream, pendingCopies);
    }
    PCollection<Event> out =
        p.apply(stream.advanceWatermarkToInfinity())
            .apply(Events.deduplicate().withHorizon(Duration.standardMinutes(10)));
    PAssert.that(out).containsInAnyOrder(firsts);
    PipelineResult result = p.run();
    assertEquals(removed, PipelineCounters.get(result, CounterNames.DUPLICATES_REMOVED));
  }

  @SuppressWarnings("unchecked")
  private static TestStream.Builder<Event> addAll(
      TestStream.Builder<Event> stream, List<TimestampedValue<Event>> elements) {
    return stream.addElements(
        elements.get(0), elements.subList(1, elements.size()).toArray(new TimestampedValue[0]));
  }

  /**
   * Ids of one streaming bucket keep spread hash codes (the bucket's map hashes them again): with
   * {@code hashCode % 1024} they all shared their low 10 bits and piled up in few slots.
   */
  @Test
  public void idsOfOneStreamBucketKeepSpreadHashCodes() {
    java.util.Map<Integer, java.util.Set<Integer>> lowBitsPerBucket = new java.util.HashMap<>();
    int[] perBucket = new int[StreamDedup.BUCKETS];
    for (int i = 0; i < 400_000; i++) {
      String id = String.format("e-%08d", i);
      int b = StreamDedup.bucketOf(id);
      perBucket[b]++;
      lowBitsPerBucket.computeIfAbsent(b, k -> new java.util.HashSet<>()).add(id.hashCode() & 1023);
    }
    for (int b = 0; b < perBucket.length; b++) {
      // ~390 ids a bucket: even enough, and their low hash bits nearly all different
      org.junit.Assert.assertTrue(
          b + ": " + perBucket[b], perBucket[b] > 250 && perBucket[b] < 550);
      org.junit.Assert.assertTrue(
          b + ": " + lowBitsPerBucket.get(b).size(),
          lowBitsPerBucket.get(b).size() > perBucket[b] / 2);
    }
  }

  /** Fn API runners (Beam 2.62's portable job servers) serve no MapState: per-id state there. */
  @Test
  public void mapStateIsNotUsedOnTheFnApi() {
    org.apache.beam.sdk.options.PipelineOptions options =
        org.apache.beam.sdk.options.PipelineOptionsFactory.create();
    org.junit.Assert.assertTrue(DeduplicateEvents.mapStateAvailable(options));
    org.apache.beam.sdk.options.ExperimentalOptions.addExperiment(
        options.as(org.apache.beam.sdk.options.ExperimentalOptions.class), "beam_fn_api");
    org.junit.Assert.assertFalse(DeduplicateEvents.mapStateAvailable(options));
  }

  @Test(expected = IllegalArgumentException.class)
  public void horizonMustBePositive() {
    Events.deduplicate().withHorizon(Duration.ZERO);
  }
}
