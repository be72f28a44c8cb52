package com.example.orders;

import dev.kappabeam.transforms.events.EventFormat;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.ViewSpec;
import dev.kappabeam.transforms.views.ViewTransform;
import java.util.List;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.transforms.windowing.IntervalWindow;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Duration;

/** Paid orders and their revenue per currency, per 5 minutes of event time. */
public final class RevenuePerCurrency implements ViewSpec<GenericRecord> {
  public static final ViewDefinition VIEW =
      ViewDefinition.keyed(
              "revenue_per_currency_5m",
              Schema.builder()
                  .addDateTimeField("window_start")
                  .addStringField("currency")
                  .addInt64Field("paid_orders")
                  .addInt64Field("revenue_cents")
                  .build(),
              List.of("window_start", "currency"),
              "paid_orders")
          // Lambda: a batch row and a speed row of one window and currency add up.
          .mergedBy(
              Map.of(
                  "paid_orders", ViewDefinition.Merge.SUM,
                  "revenue_cents", ViewDefinition.Merge.SUM));

  public static final Duration WINDOW = Duration.standardMinutes(5);

  @Override
  public ViewDefinition definition() {
    return VIEW;
  }

  @Override
  public EventFormat<GenericRecord> format() {
    return OrderEvents.FORMAT;
  }

  @Override
  public ViewTransform<GenericRecord, ?> transform(ViewParameters parameters) {
    return ViewTransform.of(VIEW, format(), parameters)
        .selecting(o -> "paid".equals(o.get("status").toString()))
        .keyedBy(o -> o.get("currency").toString())
        .fixedWindows(WINDOW)
        .aggregating(new PaidRevenue(), PaidRevenue.CODER, RevenuePerCurrency::row);
  }

  static Row row(String currency, KV<Long, Long> paid, BoundedWindow window) {
    return Row.withSchema(VIEW.schema())
        .addValues(((IntervalWindow) window).start(), currency, paid.getKey(), paid.getValue())
        .build();
  }

  /** Orders and the sum of their total_cents; the accumulator is its own result. */
  static final class PaidRevenue
      extends Combine.CombineFn<GenericRecord, KV<Long, Long>, KV<Long, Long>> {
    static final Coder<KV<Long, Long>> CODER = KvCoder.of(VarLongCoder.of(), VarLongCoder.of());

    @Override
    public KV<Long, Long> createAccumulator() {
      return KV.of(0L, 0L);
    }

    @Override
    public KV<Long, Long> addInput(KV<Long, Long> acc, GenericRecord order) {
      return KV.of(acc.getKey() + 1, acc.getValue() + (Long) order.get("total_cents"));
    }

    @Override
    public KV<Long, Long> mergeAccumulators(Iterable<KV<Long, Long>> accumulators) {
      long n = 0;
      long sum = 0;
      for (KV<Long, Long> a : accumulators) {
        n += a.getKey();
        sum += a.getValue();
      }
      return KV.of(n, sum);
    }

    @Override
    public KV<Long, Long> extractOutput(KV<Long, Long> acc) {
      return acc;
    }

    @Override
    public Coder<KV<Long, Long>> getAccumulatorCoder(CoderRegistry r, Coder<GenericRecord> in) {
      return CODER;
    }
  }
}
