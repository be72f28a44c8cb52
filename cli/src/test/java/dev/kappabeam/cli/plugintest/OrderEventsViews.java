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
 * the team's own shape, read by a field mapping ({@link JsonFormat}), and three views of paid
 * orders: per currency per 5 minutes (fixed windows), per currency in 10-minute windows every 5
 * minutes (sliding), per customer over the whole log (the global window). Packed by {@code
 * PluginIT} into the plug-in jar next to {@link OrdersViews}.
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

  /**
   * A view of paid orders keyed by {@code keys} (STRING columns, after {@code window_start} when
   * windowed): orders and revenue_cents, which add up when a Lambda batch row and a speed row of
   * one key merge.
   */
  private static ViewDefinition paidOrders(String name, boolean windowed, String key) {
    Schema.Builder schema = Schema.builder();
    if (windowed) {
      schema.addDateTimeField("window_start");
    }
    schema.addStringField(key).addInt64Field("orders").addInt64Field("revenue_cents");
    return ViewDefinition.keyed(
            name, schema.build(), windowed ? List.of("window_start", key) : List.of(key), "orders")
        .mergedBy(
            java.util.Map.of(
                "orders", ViewDefinition.Merge.SUM, "revenue_cents", ViewDefinition.Merge.SUM));
  }

  /** Paid orders and revenue per currency per 5 minutes (fixed windows). */
  public static final ViewDefinition REVENUE_PER_CURRENCY =
      paidOrders("revenue_per_currency_5m", true, "currency");

  /** Paid orders and revenue per customer over the whole log (the global window). */
  public static final ViewDefinition PAID_PER_CUSTOMER =
      paidOrders("paid_orders_per_customer", false, "customer_id");

  /** Paid orders and revenue per currency in 10-minute windows starting every 5 minutes. */
  public static final ViewDefinition PAID_SLIDING =
      paidOrders("paid_orders_10m_every_5m", true, "currency");

  @Override
  public List<ViewSpec<Row>> views() {
    return List.of(new RevenuePerCurrency(), new PaidPerCustomer(), new PaidSliding());
  }

  /** Paid orders, counted with their total. */
  static ViewTransform.Builder<Row> paidOrders(ViewDefinition view, ViewParameters parameters) {
    return ViewTransform.of(view, ORDERS, parameters)
        .selecting(o -> "paid".equals(o.getString("status")));
  }

  /** A view of the orders format. */
  abstract static class OrdersView implements ViewSpec<Row> {
    private final ViewDefinition view;

    OrdersView(ViewDefinition view) {
      this.view = view;
    }

    @Override
    public ViewDefinition definition() {
      return view;
    }

    @Override
    public JsonFormat format() {
      return ORDERS;
    }
  }

  static final class PaidPerCustomer extends OrdersView {
    PaidPerCustomer() {
      super(PAID_PER_CUSTOMER);
    }

    @Override
    public ViewTransform<Row, ?> transform(ViewParameters parameters) {
      return paidOrders(PAID_PER_CUSTOMER, parameters)
          .keyedBy(o -> o.getString("customer_id"))
          .globalWindow()
          .aggregating(
              CountAndSum.<Row>of(o -> o.getInt64("total_cents")),
              CountAndSum.CODER,
              (customer, s, w) ->
                  Row.withSchema(PAID_PER_CUSTOMER.schema())
                      .addValues(customer, s.getKey(), s.getValue())
                      .build());
    }
  }

  static final class PaidSliding extends OrdersView {
    PaidSliding() {
      super(PAID_SLIDING);
    }

    @Override
    public ViewTransform<Row, ?> transform(ViewParameters parameters) {
      return paidOrders(PAID_SLIDING, parameters)
          .keyedBy(o -> o.getString("currency"))
          .slidingWindows(Duration.standardMinutes(10), Duration.standardMinutes(5))
          .aggregating(
              CountAndSum.<Row>of(o -> o.getInt64("total_cents")),
              CountAndSum.CODER,
              (currency, s, w) ->
                  Row.withSchema(PAID_SLIDING.schema())
                      .addValues(((IntervalWindow) w).start(), currency, s.getKey(), s.getValue())
                      .build());
    }
  }

  static final class RevenuePerCurrency extends OrdersView {
    RevenuePerCurrency() {
      super(REVENUE_PER_CURRENCY);
    }

    @Override
    public ViewTransform<Row, ?> transform(ViewParameters parameters) {
      return paidOrders(REVENUE_PER_CURRENCY, parameters)
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
