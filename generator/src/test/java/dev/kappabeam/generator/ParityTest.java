package dev.kappabeam.generator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.transforms.CounterNames;
import dev.kappabeam.transforms.ReferenceViews;
import dev.kappabeam.transforms.events.Event;
import dev.kappabeam.transforms.events.EventParser;
import dev.kappabeam.transforms.events.SourceRecord;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.ViewTable;
import dev.kappabeam.transforms.views.Views;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TimestampedValue;
import org.joda.time.Duration;
import org.joda.time.Instant;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The parity contract: for generated workloads (out-of-order, late-within-lateness, duplicate and
 * malformed records), the final views of a bounded run and of a replayed stream are equal to each
 * other and to the oracle, row for row, and the counters add up. Records later than the allowed
 * lateness are exactly the difference: on the late output of the stream, in the bounded view.
 */
class ParityTest {
  /** The watermark bound of the replay, as the Kafka source would use. */
  private static final Duration BOUND = Duration.standardSeconds(10);

  private static final ViewParameters PARAMS = ViewParameters.defaults();

  private static List<GeneratedRecord> workload(long seed, double tooLate) {
    return WorkloadGenerator.seeded(seed)
        .withCount(500)
        .withUsers(30)
        .withItems(12)
        .withEventsPerSecond(1)
        .withOutOfOrderFraction(0.1)
        .withLateFraction(0.05)
        .withTooLateFraction(tooLate)
        .withDuplicateFraction(0.05)
        .withMalformedFraction(0.05)
        .generate();
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2})
  void boundedAndStreamingViewsEqualTheOracle(long seed) {
    List<GeneratedRecord> records = workload(seed, 0);
    Oracle.Result expected = Oracle.computeFromRecords(records, PARAMS);
    assertTrue(expected.duplicates() > 0 && expected.deadLettered() > 0, expected::toString);

    RunOutcome bounded = runBounded(records, expected.views());
    RunOutcome streaming = runStreaming(records, expected.views(), List.of());
    for (RunOutcome run : List.of(bounded, streaming)) {
      assertEquals(expected.read(), run.counters.get(CounterNames.READ));
      assertEquals(expected.deadLettered(), run.counters.get(CounterNames.DEAD_LETTERED));
      assertEquals(expected.duplicates(), run.counters.get(CounterNames.DUPLICATES_REMOVED));
      assertEquals(expected.accepted(), run.counters.get(CounterNames.ACCEPTED));
      assertEquals(0L, run.counters.get(CounterNames.LATE));
      assertCountsAddUp(run);
    }
  }

  @ParameterizedTest
  @ValueSource(longs = {4})
  void recordsBeyondTheLatenessAreExactlyTheDifference(long seed) {
    List<GeneratedRecord> records = workload(seed, 0.02);
    List<GeneratedRecord> onTime = new ArrayList<>();
    List<Event> tooLate = new ArrayList<>();
    for (GeneratedRecord r : records) {
      if (r.kind() == GeneratedRecord.Kind.TOO_LATE) {
        tooLate.add(EventParser.parse(r.value()).event());
      } else {
        onTime.add(r);
      }
    }
    assertTrue(tooLate.size() > 5, "workload has too-late records");
    Oracle.Result all = Oracle.computeFromRecords(records, PARAMS);
    Oracle.Result withoutLate = Oracle.computeFromRecords(onTime, PARAMS);

    RunOutcome bounded = runBounded(records, all.views());
    RunOutcome streaming = runStreaming(records, withoutLate.views(), tooLate);
    assertEquals(0L, bounded.counters.get(CounterNames.LATE));
    assertEquals((long) tooLate.size(), streaming.counters.get(CounterNames.LATE));
    assertEquals(withoutLate.accepted(), streaming.counters.get(CounterNames.ACCEPTED));
    assertCountsAddUp(bounded);
    assertCountsAddUp(streaming);
  }

  private static void assertCountsAddUp(RunOutcome run) {
    Map<String, Long> c = run.counters;
    assertEquals(
        c.get(CounterNames.READ),
        c.get(CounterNames.ACCEPTED)
            + c.get(CounterNames.DEAD_LETTERED)
            + c.get(CounterNames.DUPLICATES_REMOVED)
            + c.get(CounterNames.LATE),
        c::toString);
  }

  private static final class RunOutcome {
    final Map<String, Long> counters;

    RunOutcome(Map<String, Long> counters) {
      this.counters = counters;
    }
  }

  private static List<SourceRecord> sourceRecords(List<GeneratedRecord> records) {
    List<SourceRecord> out = new ArrayList<>();
    for (int i = 0; i < records.size(); i++) {
      GeneratedRecord r = records.get(i);
      out.add(new SourceRecord("events", 0, i, r.key(), r.value()));
    }
    return out;
  }

  private static RunOutcome runBounded(
      List<GeneratedRecord> records, Map<String, List<Row>> expected) {
    Pipeline p = Pipeline.create(PipelineOptionsFactory.create());
    PCollectionTuple out =
        p.apply("Records", Create.of(sourceRecords(records)).withCoder(SourceRecord.Coder.of()))
            .apply("ReferenceViews", ReferenceViews.of(PARAMS));
    assertFinalViews(out, expected);
    PAssert.that("no late output", out.get(ReferenceViews.LATE)).empty();
    return finish(p);
  }

  /**
   * Replays the records in log order, advancing the watermark as the Kafka source would: newest
   * event time seen minus the bound, after every few records.
   */
  @SuppressWarnings({
    "unchecked",
    "rawtypes"
  }) // TestStream.addElements takes varargs of a generic type
  private static RunOutcome runStreaming(
      List<GeneratedRecord> records, Map<String, List<Row>> expected, List<Event> expectedLate) {
    TestStream.Builder<SourceRecord> stream = TestStream.create(SourceRecord.Coder.of());
    List<SourceRecord> source = sourceRecords(records);
    long newest = Long.MIN_VALUE;
    long watermark = Long.MIN_VALUE;
    List<TimestampedValue<SourceRecord>> batch = new ArrayList<>();
    for (int i = 0; i < source.size(); i++) {
      SourceRecord r = source.get(i);
      EventParser.Result parsed = EventParser.parse(r.value());
      Instant ts =
          parsed.isValid()
              ? new Instant(parsed.event().timestampMillis())
              : org.apache.beam.sdk.transforms.windowing.BoundedWindow.TIMESTAMP_MIN_VALUE;
      if (parsed.isValid()) {
        newest = Math.max(newest, parsed.event().timestampMillis());
      }
      batch.add(TimestampedValue.of(r, ts));
      if (batch.size() == 25 || i == source.size() - 1) {
        stream =
            stream.addElements(
                batch.get(0), batch.subList(1, batch.size()).toArray(new TimestampedValue[0]));
        batch.clear();
        long next = newest - BOUND.getMillis();
        if (newest != Long.MIN_VALUE && next > watermark) {
          watermark = next;
          stream = stream.advanceWatermarkTo(new Instant(watermark));
        }
      }
    }
    Pipeline p = Pipeline.create(PipelineOptionsFactory.create());
    PCollectionTuple out =
        p.apply("Replay", stream.advanceWatermarkToInfinity())
            .apply("ReferenceViews", ReferenceViews.of(PARAMS));
    assertFinalViews(out, expected);
    List<String> lateIds = new ArrayList<>();
    expectedLate.forEach(e -> lateIds.add(e.eventId()));
    PAssert.that("late output", out.get(ReferenceViews.LATE)).satisfies(new SameEventIds(lateIds));
    return finish(p);
  }

  /** Applies every emitted pane as a sink would and compares with the expected rows. */
  private static void assertFinalViews(PCollectionTuple out, Map<String, List<Row>> expected) {
    for (ViewDefinition view : Views.all()) {
      PCollection<Row> rows = out.get(ReferenceViews.rowsOf(view));
      PAssert.that(view.name(), rows).satisfies(new FinalView(view, expected.get(view.name())));
    }
  }

  static final class FinalView implements SerializableFunction<Iterable<Row>, Void> {
    private final ViewDefinition view;
    private final List<Row> expected;

    FinalView(ViewDefinition view, List<Row> expected) {
      this.view = view;
      this.expected = new ArrayList<>(expected);
    }

    @Override
    public Void apply(Iterable<Row> panes) {
      List<Row> actual = new ViewTable(view).applyAll(panes).rows();
      assertEquals(expected.size(), actual.size(), view.name() + ": row count");
      assertEquals(expected, actual, view.name());
      return null;
    }
  }

  static final class SameEventIds implements SerializableFunction<Iterable<Event>, Void> {
    private final List<String> expected;

    SameEventIds(List<String> expected) {
      this.expected = expected;
    }

    @Override
    public Void apply(Iterable<Event> late) {
      TreeSet<String> actual = new TreeSet<>();
      late.forEach(e -> actual.add(e.eventId()));
      assertEquals(new TreeSet<>(expected), actual);
      return null;
    }
  }

  private static RunOutcome finish(Pipeline p) {
    PipelineResult result = p.run();
    result.waitUntilFinish();
    Map<String, Long> counters = new HashMap<>();
    for (String name :
        List.of(
            CounterNames.READ,
            CounterNames.DEAD_LETTERED,
            CounterNames.DUPLICATES_REMOVED,
            CounterNames.ACCEPTED,
            CounterNames.LATE)) {
      long sum = 0;
      for (MetricResult<Long> c :
          result
              .metrics()
              .queryMetrics(
                  MetricsFilter.builder()
                      .addNameFilter(MetricNameFilter.named(CounterNames.NAMESPACE, name))
                      .build())
              .getCounters()) {
        sum += c.getCommitted();
      }
      counters.put(name, sum);
    }
    return new RunOutcome(counters);
  }
}
