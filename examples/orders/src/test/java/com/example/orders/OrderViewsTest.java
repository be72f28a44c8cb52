package com.example.orders;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.example.orders.Orders.OrderEvent;
import dev.kappabeam.transforms.CounterNames;
import dev.kappabeam.transforms.LogViews;
import dev.kappabeam.transforms.events.SourceRecord;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TimestampedValue;
import org.joda.time.Duration;
import org.joda.time.Instant;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The two order views through kappa-beam's machinery, bounded (a historical replay) and as a
 * stream (TestStream: the watermark moves on between batches of events), on DirectRunner and on
 * Flink: each gives the oracle's rows, re-sent events are counted once, broken records are dead
 * letters, and the counts add up.
 */
class OrderViewsTest {
  private static final ViewParameters PARAMETERS =
      ViewParameters.defaults().withSessionGap(Duration.standardMinutes(20));

  private static final List<OrderEvent> EVENTS = Orders.generate(42, 400);

  /** The events as Kafka would hold them, plus re-sent copies and broken records. */
  private static List<TimestampedValue<SourceRecord>> records() {
    List<TimestampedValue<SourceRecord>> out = new ArrayList<>();
    long offset = 0;
    for (int i = 0; i < EVENTS.size(); i++) {
      OrderEvent e = EVENTS.get(i);
      out.add(record(offset++, e.bytes(), e.ts()));
      if (i % 25 == 0) {
        out.add(record(offset++, e.bytes(), e.ts())); // a producer's retry
      }
    }
    out.add(record(offset++, "{\"not\":\"avro\"}".getBytes(StandardCharsets.UTF_8), Orders.T0));
    out.add(record(offset, new byte[0], Orders.T0));
    return out;
  }

  private static TimestampedValue<SourceRecord> record(long offset, byte[] value, long ts) {
    return TimestampedValue.of(
        new SourceRecord("orders", (int) (offset % 3), offset, null, value), new Instant(ts));
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({"direct, bounded", "direct, streaming", "flink, bounded", "flink, streaming"})
  void theViewsEqualTheOracleAndTheCountsAddUp(String runner, String mode) {
    boolean streaming = mode.equals("streaming");
    Pipeline p = Pipeline.create(options(runner, streaming));
    List<TimestampedValue<SourceRecord>> records = records();
    PCollection<SourceRecord> input =
        streaming
            ? p.apply(stream(records))
            : p.apply(Create.timestamped(records).withCoder(SourceRecord.Coder.of()));
    PCollectionTuple out =
        input.apply(
            "OrderViews",
            LogViews.of(List.of(new RevenuePerCurrency(), new CustomerFunnel()), PARAMETERS));
    assertRows(out, RevenuePerCurrency.VIEW, OrdersOracle.revenue(EVENTS));
    assertRows(
        out,
        CustomerFunnel.VIEW,
        OrdersOracle.funnel(EVENTS, PARAMETERS.sessionGap().getMillis()));
    PipelineResult result = p.run();
    result.waitUntilFinish();
    long copies = records.size() - 2 - EVENTS.size();
    assertEquals(records.size(), counter(result, CounterNames.READ));
    assertEquals(2, counter(result, CounterNames.DEAD_LETTERED));
    assertEquals(copies, counter(result, CounterNames.DUPLICATES_REMOVED));
    assertEquals(EVENTS.size(), counter(result, CounterNames.ACCEPTED));
  }

  private static PipelineOptions options(String runner, boolean streaming) {
    List<String> args = new ArrayList<>();
    if (runner.equals("flink")) {
      args.addAll(List.of("--runner=FlinkRunner", "--flinkMaster=[local]", "--parallelism=2"));
    } else {
      args.add("--runner=DirectRunner");
    }
    if (streaming) {
      args.add("--streaming=true");
    }
    return PipelineOptionsFactory.fromArgs(args.toArray(String[]::new)).create();
  }

  /** In four batches; the watermark moves to each next batch's first event time. */
  private static TestStream<SourceRecord> stream(List<TimestampedValue<SourceRecord>> records) {
    TestStream.Builder<SourceRecord> b = TestStream.create(SourceRecord.Coder.of());
    int n = records.size();
    for (int part = 0; part < 4; part++) {
      List<TimestampedValue<SourceRecord>> batch = records.subList(part * n / 4, (part + 1) * n / 4);
      b = b.addElements(batch.get(0), batch.subList(1, batch.size()).toArray(TimestampedValue[]::new));
      if (part < 3) {
        b = b.advanceWatermarkTo(records.get((part + 1) * n / 4).getTimestamp().minus(Duration.millis(1)));
      }
    }
    return b.advanceWatermarkToInfinity();
  }

  /**
   * The distinct rows of the view are the oracle's: a stream's panes accumulate and a sink
   * upserts them, so a key's last pane is its answer; here each window fires once.
   */
  private static void assertRows(PCollectionTuple out, ViewDefinition view, List<Row> expected) {
    PAssert.that(out.get(LogViews.rowsOf(view)))
        .satisfies(
            actual -> {
              Set<Row> distinct = new HashSet<>();
              actual.forEach(distinct::add);
              assertEquals(new HashSet<>(expected), distinct, view.name());
              return null;
            });
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
      sum += c.getAttempted();
    }
    return sum;
  }
}
