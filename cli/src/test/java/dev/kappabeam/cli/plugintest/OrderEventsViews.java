package dev.kappabeam.cli.plugintest;

import dev.kappabeam.transforms.events.JsonFormat;
import dev.kappabeam.transforms.views.CountAndSum;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.ViewProvider;
import dev.kappabeam.transforms.views.ViewSpec;
import dev.kappabeam.transforms.views.ViewTransform;
import java.util.List;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.windowing.IntervalWindow;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Duration;

/**
 * A team's plug-in whose events are not the reference workload's: order status changes as JSON of
 * the team's own shape, read by a field mapping ({@link JsonFormat}), and one view of them, paid
 * orders and revenue per currency per 5 minutes. Packed by {@code PluginIT} into the plug-in jar
 * next to {@link OrdersViews}.
 */
public final class OrderEventsViews implements ViewProvider {
  /** {"order_id", "customer": {"id"}, "status", "total_cents", "currency", "ts"}. */
  public static final JsonFormat ORDERS =
      JsonFormat.named("orders-json")
          .string("order_id")
          .string("customer_id", "customer.id")
          .string("status")
          .int64("total_cents")
          .string("currency")
          .eventTime("ts")
          .idFrom("order_id", "status")
          .build();

  public static final ViewDefinition REVENUE_PER_CURRENCY =
      ViewDefinition.keyed(
              "revenue_per_currency_5m",
              Schema.builder()
                  .addDateTimeField("window_start")
                  .addStringField("currency")
                  .addInt64Field("orders")
                  .addInt64Field("revenue_cents")
                  .build(),
              List.of("window_start", "currency"),
              "orders")
          // Lambda: a batch row and a speed row of one window and currency add up.
          .mergedBy(
              java.util.Map.of(
                  "orders", ViewDefinition.Merge.SUM, "revenue_cents", ViewDefinition.Merge.SUM));

  @Override
  public List<ViewSpec<Row>> views() {
    return List.of(new RevenuePerCurrency());
  }

  static final class RevenuePerCurrency implements ViewSpec<Row> {
    @Override
    public ViewDefinition definition() {
      return REVENUE_PER_CURRENCY;
    }

    @Override
    public JsonFormat format() {
      return ORDERS;
    }

    @Override
    public ViewTransform<Row, ?> transform(ViewParameters parameters) {
      return ViewTransform.of(REVENUE_PER_CURRENCY, format(), parameters)
          .selecting(o -> "paid".equals(o.getString("status")))
          .keyedBy(o -> o.getString("currency"))
          .fixedWindows(Duration.standardMinutes(5))
          .aggregating(
              CountAndSum.<Row>of(o -> o.getInt64("total_cents")),
              CountAndSum.CODER,
              (currency, s, w) ->
                  Row.withSchema(REVENUE_PER_CURRENCY.schema())
                      .addValues(((IntervalWindow) w).start(), currency, s.getKey(), s.getValue())
                      .build());
    }
  }
}
