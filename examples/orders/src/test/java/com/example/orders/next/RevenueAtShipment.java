package com.example.orders.next;

import com.example.orders.OrderEvents;
import com.example.orders.RevenuePerCurrency;
import dev.kappabeam.transforms.events.EventFormat;
import dev.kappabeam.transforms.views.CountAndSum;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.ViewSpec;
import dev.kappabeam.transforms.views.ViewTransform;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.transforms.windowing.IntervalWindow;
import org.apache.beam.sdk.values.Row;

/**
 * The next build's logic of {@code revenue_per_currency_5m}: the same view (name, columns, key,
 * merge rule), but an order's revenue counts when the order <em>ships</em>, in the window of the
 * shipment, instead of when it is paid. A paid order that is cancelled is refunded and never ships,
 * so cancelled orders drop out of the revenue; {@code paid_orders} counts the paid orders that
 * shipped in the window.
 *
 * <p>In the team's repository this is an edit of {@link RevenuePerCurrency} (the {@code selecting}
 * line) and a new build of the jar. The test keeps both builds side by side, so this one lives in
 * its own package, with its own provider ({@link NextOrderViews}) that only the test's "next build"
 * class loader lists ({@code next-build/META-INF/services}).
 */
public final class RevenueAtShipment implements ViewSpec<GenericRecord> {
  @Override
  public ViewDefinition definition() {
    return RevenuePerCurrency.VIEW;
  }

  @Override
  public EventFormat<GenericRecord> format() {
    return OrderEvents.FORMAT;
  }

  @Override
  public ViewTransform<GenericRecord, ?> transform(ViewParameters parameters) {
    return ViewTransform.of(RevenuePerCurrency.VIEW, format(), parameters)
        .selecting(o -> "shipped".equals(o.get("status").toString()))
        .keyedBy(o -> o.get("currency").toString())
        .fixedWindows(RevenuePerCurrency.WINDOW)
        .aggregating(
            CountAndSum.<GenericRecord>of(o -> (Long) o.get("total_cents")),
            CountAndSum.CODER,
            (currency, shipped, window) ->
                Row.withSchema(RevenuePerCurrency.VIEW.schema())
                    .addValues(
                        ((IntervalWindow) window).start(),
                        currency,
                        shipped.getKey(),
                        shipped.getValue())
                    .build());
  }
}
