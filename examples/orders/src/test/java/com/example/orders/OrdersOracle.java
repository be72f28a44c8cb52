package com.example.orders;

import com.example.orders.Orders.OrderEvent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Instant;

/**
 * The two views computed in plain Java from the distinct events: what every run must give; and the
 * revenue view's changed logic (revenue at shipment), what its reprocessed version must give.
 */
final class OrdersOracle {
  private OrdersOracle() {}

  /** Paid orders and revenue per 5-minute window and currency. */
  static List<Row> revenue(List<OrderEvent> events) {
    return revenueAt("paid", events);
  }

  /**
   * The changed logic of {@code revenue_per_currency_5m} ({@code next.RevenueAtShipment}): an
   * order's revenue counts when it ships, in the window of its shipment, so a paid order that is
   * cancelled (and refunded) never counts.
   */
  static List<Row> revenueAtShipment(List<OrderEvent> events) {
    return revenueAt("shipped", events);
  }

  /** Orders and their revenue per 5-minute window and currency, at events of {@code status}. */
  private static List<Row> revenueAt(String status, List<OrderEvent> events) {
    long size = RevenuePerCurrency.WINDOW.getMillis();
    Map<String, long[]> acc = new TreeMap<>();
    for (OrderEvent e : distinct(events)) {
      if (!e.status().equals(status)) {
        continue;
      }
      long window = e.ts() - Math.floorMod(e.ts(), size);
      long[] a = acc.computeIfAbsent(window + "|" + e.currency(), k -> new long[2]);
      a[0]++;
      a[1] += e.cents();
    }
    List<Row> rows = new ArrayList<>();
    acc.forEach(
        (k, a) -> {
          String[] p = k.split("\\|");
          rows.add(
              Row.withSchema(RevenuePerCurrency.VIEW.schema())
                  .addValues(new Instant(Long.parseLong(p[0])), p[1], a[0], a[1])
                  .build());
        });
    return rows;
  }

  /** Each customer's sessions (events less than {@code gapMillis} apart) with status counts. */
  static List<Row> funnel(List<OrderEvent> events, long gapMillis) {
    Map<String, List<OrderEvent>> byCustomer = new TreeMap<>();
    for (OrderEvent e : distinct(events)) {
      byCustomer.computeIfAbsent(e.customer(), c -> new ArrayList<>()).add(e);
    }
    List<Row> rows = new ArrayList<>();
    for (Map.Entry<String, List<OrderEvent>> c : byCustomer.entrySet()) {
      List<OrderEvent> list = c.getValue();
      list.sort(java.util.Comparator.comparingLong(OrderEvent::ts));
      long start = -1;
      long last = -1;
      long[] counts = new long[5];
      for (OrderEvent e : list) {
        if (start >= 0 && e.ts() >= last + gapMillis) {
          rows.add(funnelRow(c.getKey(), start, last, counts));
          start = -1;
          counts = new long[5];
        }
        if (start < 0) {
          start = e.ts();
        }
        last = Math.max(last, e.ts());
        counts[0]++;
        counts[1 + CustomerFunnel.STATUSES.indexOf(e.status())]++;
      }
      rows.add(funnelRow(c.getKey(), start, last, counts));
    }
    return rows;
  }

  private static Row funnelRow(String customer, long start, long end, long[] c) {
    return Row.withSchema(CustomerFunnel.VIEW.schema())
        .addValues(customer, new Instant(start), new Instant(end), c[0], c[1], c[2], c[3], c[4])
        .build();
  }

  /** One event per order id and status (re-sent copies are identical). */
  static List<OrderEvent> distinct(List<OrderEvent> events) {
    Map<String, OrderEvent> byId = new LinkedHashMap<>();
    for (OrderEvent e : events) {
      byId.putIfAbsent(e.orderId() + "/" + e.status(), e);
    }
    return new ArrayList<>(byId.values());
  }
}
