package dev.kappabeam.cli.plugintest;

import dev.kappabeam.transforms.events.JsonFormat;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.ViewProvider;
import dev.kappabeam.transforms.views.ViewSpec;
import dev.kappabeam.transforms.views.ViewTransform;
import java.util.List;
import org.apache.beam.sdk.coders.CannotProvideCoderException;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.windowing.IntervalWindow;
import org.apache.beam.sdk.values.KV;
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
              new CountSum(),
              CountSum.CODER,
              (currency, s, w) ->
                  Row.withSchema(REVENUE_PER_CURRENCY.schema())
                      .addValues(((IntervalWindow) w).start(), currency, s.getKey(), s.getValue())
                      .build());
    }
  }

  /** Orders and the sum of their total_cents. */
  static final class CountSum extends Combine.CombineFn<Row, KV<Long, Long>, KV<Long, Long>> {
    static final Coder<KV<Long, Long>> CODER = KvCoder.of(VarLongCoder.of(), VarLongCoder.of());

    @Override
    public KV<Long, Long> createAccumulator() {
      return KV.of(0L, 0L);
    }

    @Override
    public KV<Long, Long> addInput(KV<Long, Long> acc, Row order) {
      return KV.of(acc.getKey() + 1, acc.getValue() + order.getInt64("total_cents"));
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
    public Coder<KV<Long, Long>> getAccumulatorCoder(CoderRegistry r, Coder<Row> in)
        throws CannotProvideCoderException {
      return CODER;
    }
  }
}
