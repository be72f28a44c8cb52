package dev.kappabeam.generator;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kappabeam.transforms.CounterNames;
import dev.kappabeam.transforms.ReferenceViews;
import dev.kappabeam.transforms.events.EventType;
import dev.kappabeam.transforms.events.SourceRecord;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
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
import org.joda.time.Duration;
import org.junit.jupiter.api.Test;

/** The oracle agrees with a bounded run of {@link ReferenceViews} on a generated workload. */
class OracleParityTest {

  @Test
  void boundedRunOfReferenceViewsEqualsTheOracleRowForRowAndCounterForCounter() {
    List<GeneratedRecord> records =
        WorkloadGenerator.seeded(99)
            .withCount(2000)
            .withUsers(40)
            .withEventsPerSecond(2)
            .withLateFraction(0.03)
            .withTooLateFraction(0.01)
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
      PAssert.that(view.name(), out.get(ReferenceViews.rowsOf(view)))
          .containsInAnyOrder(expected.rows(view));
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
