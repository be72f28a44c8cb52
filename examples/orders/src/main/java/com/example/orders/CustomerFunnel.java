package com.example.orders;

import dev.kappabeam.transforms.events.EventFormat;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.ViewSpec;
import dev.kappabeam.transforms.views.ViewTransform;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.ListCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.windowing.IntervalWindow;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Duration;

/**
 * Each customer's order funnel per session of activity (events closer than the run's session gap):
 * how many of the session's events placed, paid, shipped or cancelled an order.
 */
public final class CustomerFunnel implements ViewSpec<GenericRecord> {
  /** The statuses, in the order of the count columns. */
  static final List<String> STATUSES = List.of("placed", "paid", "shipped", "cancelled");

  public static final ViewDefinition VIEW =
      ViewDefinition.sessions(
              "customer_funnel",
              Schema.builder()
                  .addStringField("customer_id")
                  .addDateTimeField("session_start")
                  .addDateTimeField("session_end")
                  .addInt64Field("events")
                  .addInt64Field("placed")
                  .addInt64Field("paid")
                  .addInt64Field("shipped")
                  .addInt64Field("cancelled")
                  .build(),
              "customer_id",
              "session_start",
              "events")
          .mergedBy(
              Map.of(
                  "events", ViewDefinition.Merge.SUM,
                  "placed", ViewDefinition.Merge.SUM,
                  "paid", ViewDefinition.Merge.SUM,
                  "shipped", ViewDefinition.Merge.SUM,
                  "cancelled", ViewDefinition.Merge.SUM));

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
    Duration gap = parameters.sessionGap();
    return ViewTransform.of(VIEW, format(), parameters)
        .keyedBy(o -> o.get("customer_id").toString())
        .sessions()
        .aggregating(
            new StatusCounts(),
            StatusCounts.CODER,
            (customer, counts, window) -> {
              // A session window spans [first event, last event + gap).
              IntervalWindow w = (IntervalWindow) window;
              List<Object> values = new ArrayList<>();
              values.add(customer);
              values.add(w.start());
              values.add(w.end().minus(gap));
              values.addAll(counts);
              return Row.withSchema(VIEW.schema()).addValues(values).build();
            });
  }

  /** [events, placed, paid, shipped, cancelled]. */
  static final class StatusCounts
      extends Combine.CombineFn<GenericRecord, List<Long>, List<Long>> {
    static final Coder<List<Long>> CODER = ListCoder.of(VarLongCoder.of());

    @Override
    public List<Long> createAccumulator() {
      return List.of(0L, 0L, 0L, 0L, 0L);
    }

    @Override
    public List<Long> addInput(List<Long> acc, GenericRecord order) {
      List<Long> out = new ArrayList<>(acc);
      out.set(0, out.get(0) + 1);
      int i = 1 + STATUSES.indexOf(order.get("status").toString());
      out.set(i, out.get(i) + 1);
      return out;
    }

    @Override
    public List<Long> mergeAccumulators(Iterable<List<Long>> accumulators) {
      long[] sum = new long[5];
      for (List<Long> a : accumulators) {
        for (int i = 0; i < sum.length; i++) {
          sum[i] += a.get(i);
        }
      }
      List<Long> out = new ArrayList<>();
      for (long s : sum) {
        out.add(s);
      }
      return out;
    }

    @Override
    public List<Long> extractOutput(List<Long> acc) {
      return acc;
    }

    @Override
    public Coder<List<Long>> getAccumulatorCoder(CoderRegistry r, Coder<GenericRecord> in) {
      return CODER;
    }
  }
}
