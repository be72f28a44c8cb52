package dev.kappabeam.generator;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kappabeam.transforms.CounterNames;
import dev.kappabeam.transforms.ReferenceViews;
import dev.kappabeam.transforms.events.EventType;
import dev.kappabeam.transforms.events.SourceRecord;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.ViewTable;
import dev.kappabeam.transforms.views.Views;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The oracle agrees with a bounded run of {@link ReferenceViews} on a generated workload, view by
 * view as a sink materialises it ({@link ViewTable}), and counter by counter.
 *
 * <p>The panes are not compared one to one: on the DirectRunner the watermark of a bounded input
 * can pass the end of a window before the input is exhausted (it follows the oldest element still
 * pending), so that window fires on time and then again, identically, when it closes at the end of
 * the input ({@code ClosingBehavior.FIRE_ALWAYS} with accumulating panes).
 */
class OracleParityTest {

  @Test
  void boundedRunOfReferenceViewsEqualsTheOracleRowForRowAndCounterForCounter() {
    List<GeneratedRecord> records =
        WorkloadGenerator.seeded(99)
            .withCount(1000)
            .withUsers(40)
            .withEventsPerSecond(2)
            .withLateFraction(0.03)
            .withTooLateFraction(0.02)
            .generate();
    ViewParameters params =
        ViewParameters.defaults()
            .withSessionGap(Duration.standardMinutes(2))
            .withExcludedTypes(Set.of(EventType.CART));
    Oracle.Result expected = Oracle.computeFromRecords(records, params);

    List<SourceRecord> source = new ArrayList<>();
    for (int i = 0; i < records.size(); i++) {
      GeneratedRecord r = records.get(i);
      source.add(new SourceRecord("events", 0, i, r.key(), r.value()));
    }
    Pipeline p = Pipeline.create(PipelineOptionsFactory.create());
    PCollectionTuple out =
        p.apply("Records", Create.of(source).withCoder(SourceRecord.Coder.of()))
            .apply("ReferenceViews", ReferenceViews.of(params));
    for (ViewDefinition view : Views.all()) {
      List<Row> rows = expected.rows(view);
      // Compared as a sink sees them: a run may emit a window's pane twice (see class comment).
      PAssert.that(view.name(), out.get(ReferenceViews.rowsOf(view)))
          .satisfies(
              panes -> {
                assertEquals(rows, new ViewTable(view).applyAll(panes).rows(), view.name());
                return null;
              });
    }
    PipelineResult result = p.run();
    result.waitUntilFinish();

    assertEquals(expected.read(), counter(result, CounterNames.READ));
    assertEquals(expected.parsed(), counter(result, CounterNames.PARSED));
    assertEquals(expected.deadLettered(), counter(result, CounterNames.DEAD_LETTERED));
    assertEquals(expected.duplicates(), counter(result, CounterNames.DUPLICATES_REMOVED));
    assertEquals(expected.accepted(), counter(result, CounterNames.ACCEPTED));
    assertEquals(0, counter(result, CounterNames.LATE));
  }

  private static long counter(PipelineResult result, String name) {
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
    return sum;
  }
}
