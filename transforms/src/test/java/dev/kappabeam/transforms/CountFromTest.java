package dev.kappabeam.transforms;

import static dev.kappabeam.transforms.TestRecords.activity;
import static dev.kappabeam.transforms.TestRecords.at;
import static dev.kappabeam.transforms.TestRecords.json;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import dev.kappabeam.transforms.events.CountFrom;
import dev.kappabeam.transforms.events.Event;
import dev.kappabeam.transforms.events.SourceRecord;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.Views;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TimestampedValue;
import org.joda.time.Instant;
import org.junit.Rule;
import org.junit.Test;

/**
 * The Lambda speed layer's view of the log: records before the cutoff only prime the
 * de-duplication, so a re-sent copy after the cutoff of an event the batch counted is removed.
 */
public class CountFromTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();

  /** Cutoff: partition 0 counts from offset 10, partition 1 from offset 20. */
  private static final CountFrom CUTOFF = CountFrom.of("events", Map.of(0, 10L, 1, 20L));

  private static TimestampedValue<SourceRecord> rec(
      int partition, long offset, String id, String user, Instant ts) {
    return TimestampedValue.of(
        new SourceRecord(
            "events",
            partition,
            offset,
            user.getBytes(StandardCharsets.UTF_8),
            json(id, user, "view", ts).getBytes(StandardCharsets.UTF_8)),
        ts);
  }

  private static TimestampedValue<SourceRecord> malformed(int partition, long offset) {
    return TimestampedValue.of(
        new SourceRecord(
            "events", partition, offset, null, "{not json".getBytes(StandardCharsets.UTF_8)),
        at(0, 0));
  }

  private static LogViews<Event> activityAfterCutoff() {
    return ReferenceViews.of(ViewParameters.defaults())
        .withViews(List.of(Views.ACTIVITY_PER_MINUTE))
        .withCountFrom(CUTOFF);
  }

  @Test
  public void countsAtOrAfterTheCutoffOffsetOnlyOnListedPartitions() {
    assertTrue(CUTOFF.counts(rec(0, 10, "e", "u", at(0, 0)).getValue()));
    assertEquals(false, CUTOFF.counts(rec(0, 9, "e", "u", at(0, 0)).getValue()));
    assertTrue(CUTOFF.counts(rec(2, 0, "e", "u", at(0, 0)).getValue()));
    assertThrows(IllegalArgumentException.class, () -> CountFrom.of("events", Map.of(0, -1L)));
  }

  @Test
  public void streamRemovesCopiesOfPrimerEventsAndDropsThePrimer() {
    PCollectionTuple out =
        p.apply(
                TestStream.create(SourceRecord.Coder.of())
                    .addElements(
                        rec(0, 8, "e-1", "u-1", at(0, 5)), // primer: the batch counted it
                        malformed(0, 9)) // the batch dead-lettered it
                    .addElements(
                        rec(0, 10, "e-1", "u-1", at(0, 5)), // re-sent after the cutoff
                        rec(0, 11, "e-2", "u-2", at(0, 10)))
                    .advanceWatermarkToInfinity())
            .apply(activityAfterCutoff());
    PAssert.that(out.get(ReferenceViews.rowsOf(Views.ACTIVITY_PER_MINUTE)))
        .containsInAnyOrder(activity(at(0, 0), "view", 1, 1, 0));
    PAssert.that(out.get(ReferenceViews.DEAD_LETTERS)).empty();
    PipelineResult result = p.run();
    assertEquals(2, PipelineCounters.get(result, CounterNames.PRIMED));
    assertEquals(2, PipelineCounters.get(result, CounterNames.READ));
    assertEquals(1, PipelineCounters.get(result, CounterNames.DUPLICATES_REMOVED));
    assertEquals(1, PipelineCounters.get(result, CounterNames.ACCEPTED));
    assertEquals(0, PipelineCounters.get(result, CounterNames.DUPLICATES_MISSED_AT_CUTOFF));
  }

  @Test
  public void streamWaitsForThePrimerCopyWhateverOrderTheyArriveIn() {
    // Copies in different partitions, the counted one processed first: it waits for the
    // watermark, the primer copy arrives meanwhile, and the event is left to the batch.
    PCollectionTuple out =
        p.apply(
                TestStream.create(SourceRecord.Coder.of())
                    .addElements(rec(1, 25, "e-1", "u-1", at(0, 5)))
                    .addElements(rec(1, 26, "e-2", "u-2", at(0, 10)))
                    .addElements(rec(0, 3, "e-1", "u-1", at(0, 5)))
                    .advanceWatermarkToInfinity())
            .apply(activityAfterCutoff());
    PAssert.that(out.get(ReferenceViews.rowsOf(Views.ACTIVITY_PER_MINUTE)))
        .containsInAnyOrder(activity(at(0, 0), "view", 1, 1, 0));
    PipelineResult result = p.run();
    assertEquals(1, PipelineCounters.get(result, CounterNames.DUPLICATES_REMOVED));
    assertEquals(0, PipelineCounters.get(result, CounterNames.DUPLICATES_CONFLICTING));
    assertEquals(0, PipelineCounters.get(result, CounterNames.DUPLICATES_MISSED_AT_CUTOFF));
    assertEquals(2, PipelineCounters.get(result, CounterNames.READ));
    assertEquals(1, PipelineCounters.get(result, CounterNames.ACCEPTED));
  }

  @Test
  public void aPrimerCopyWithOtherContentStillRemovesTheWaitingCopyAndCountsAsConflicting() {
    PCollectionTuple out =
        p.apply(
                TestStream.create(SourceRecord.Coder.of())
                    .addElements(rec(1, 25, "e-1", "u-1", at(0, 5)))
                    .addElements(rec(0, 3, "e-1", "u-9", at(0, 5)))
                    .advanceWatermarkToInfinity())
            .apply(activityAfterCutoff());
    PAssert.that(out.get(ReferenceViews.rowsOf(Views.ACTIVITY_PER_MINUTE))).empty();
    PipelineResult result = p.run();
    assertEquals(1, PipelineCounters.get(result, CounterNames.DUPLICATES_REMOVED));
    assertEquals(1, PipelineCounters.get(result, CounterNames.DUPLICATES_CONFLICTING));
  }

  @Test
  public void streamCountsAPrimerCopyLaterThanTheWatermarkAsMissed() {
    // The primer copy arrives after the watermark passed the event: the counted copy was output
    // already and cannot be taken back; the counter says the merged view has it twice.
    PCollectionTuple out =
        p.apply(
                TestStream.create(SourceRecord.Coder.of())
                    .addElements(rec(1, 25, "e-1", "u-1", at(0, 5)))
                    .advanceWatermarkTo(at(5, 0))
                    .addElements(rec(0, 3, "e-1", "u-1", at(0, 5)))
                    .advanceWatermarkToInfinity())
            .apply(activityAfterCutoff());
    // The window fired when the watermark passed it and again when it closed: same row twice.
    PAssert.that(out.get(ReferenceViews.rowsOf(Views.ACTIVITY_PER_MINUTE)))
        .satisfies(
            rows -> {
              for (org.apache.beam.sdk.values.Row r : rows) {
                assertEquals(activity(at(0, 0), "view", 1, 1, 0), r);
              }
              assertTrue(rows.iterator().hasNext());
              return null;
            });
    PipelineResult result = p.run();
    assertEquals(1, PipelineCounters.get(result, CounterNames.DUPLICATES_MISSED_AT_CUTOFF));
    assertEquals(0, PipelineCounters.get(result, CounterNames.DUPLICATES_REMOVED));
  }

  @Test
  public void eventsNewerThanThePrimerAreNotHeldAndStillDeduplicated() {
    // Primer newest 00:06: e-2 (00:10) cannot have a primer copy and passes at once; its own
    // re-sent copy is removed as usual.
    PCollectionTuple out =
        p.apply(
                TestStream.create(SourceRecord.Coder.of())
                    .addElements(rec(0, 8, "e-1", "u-1", at(0, 6)))
                    .addElements(
                        rec(0, 10, "e-2", "u-2", at(0, 10)), rec(0, 11, "e-2", "u-2", at(0, 10)))
                    .advanceWatermarkToInfinity())
            .apply(
                ReferenceViews.of(ViewParameters.defaults())
                    .withViews(List.of(Views.ACTIVITY_PER_MINUTE))
                    .withCountFrom(CUTOFF.withPrimerNewest(at(0, 6))));
    PAssert.that(out.get(ReferenceViews.rowsOf(Views.ACTIVITY_PER_MINUTE)))
        .containsInAnyOrder(activity(at(0, 0), "view", 1, 1, 0));
    PipelineResult result = p.run();
    assertEquals(1, PipelineCounters.get(result, CounterNames.DUPLICATES_REMOVED));
    assertEquals(1, PipelineCounters.get(result, CounterNames.PRIMED));
  }

  @Test
  public void boundedInputRemovesEveryCopyOfAPrimedEventInAnyOrder() {
    PCollection<SourceRecord> records =
        p.apply(
            Create.timestamped(
                    rec(1, 25, "e-1", "u-1", at(0, 5)), // counted copy first
                    rec(1, 26, "e-1", "u-1", at(0, 5)),
                    rec(0, 3, "e-1", "u-1", at(0, 5)), // primer copy
                    rec(0, 4, "e-3", "u-3", at(0, 7)), // primer only
                    rec(0, 12, "e-2", "u-2", at(0, 10)))
                .withCoder(SourceRecord.Coder.of()));
    PCollectionTuple out = records.apply(activityAfterCutoff());
    PAssert.that(out.get(ReferenceViews.rowsOf(Views.ACTIVITY_PER_MINUTE)))
        .containsInAnyOrder(activity(at(0, 0), "view", 1, 1, 0));
    PipelineResult result = p.run();
    assertEquals(2, PipelineCounters.get(result, CounterNames.PRIMED));
    assertEquals(3, PipelineCounters.get(result, CounterNames.READ));
    assertEquals(2, PipelineCounters.get(result, CounterNames.DUPLICATES_REMOVED));
    assertEquals(1, PipelineCounters.get(result, CounterNames.ACCEPTED));
  }
}
