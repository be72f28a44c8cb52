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

  @Test(expected = IllegalArgumentException.class)
  public void horizonMustBePositive() {
    Events.deduplicate().withHorizon(Duration.ZERO);
  }
}
