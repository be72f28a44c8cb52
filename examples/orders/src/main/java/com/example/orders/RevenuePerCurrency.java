package com.example.orders;

import dev.kappabeam.transforms.events.EventFormat;
import dev.kappabeam.transforms.views.CountAndSum;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.ViewSpec;
import dev.kappabeam.transforms.views.ViewTransform;
import java.util.List;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.schemas.Schema;
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
        .aggregating(
            CountAndSum.<GenericRecord>of(o -> (Long) o.get("total_cents")),
            CountAndSum.CODER,
            RevenuePerCurrency::row);
  }

  static Row row(String currency, KV<Long, Long> paid, BoundedWindow window) {
    return Row.withSchema(VIEW.schema())
        .addValues(((IntervalWindow) window).start(), currency, paid.getKey(), paid.getValue())
        .build();
  }
}
