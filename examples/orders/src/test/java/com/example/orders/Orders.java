package com.example.orders;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;

/** A seeded stream of order events for the tests: orders that are placed, then paid and shipped or cancelled. */
final class Orders {
  private Orders() {}

  static final long T0 = 1_795_000_000_000L; // 2026-11-17T...Z

  /** One order event. */
  record OrderEvent(
      String orderId, String customer, String status, long cents, String currency, long ts) {
    GenericRecord avro() {
      GenericRecord r = new GenericData.Record(OrderEvents.SCHEMA);
      r.put("order_id", orderId);
      r.put("customer_id", customer);
      r.put(
          "status",
          new GenericData.EnumSymbol(OrderEvents.SCHEMA.getField("status").schema(), status));
      r.put("total_cents", cents);
      r.put("currency", currency);
      r.put("ts", ts);
      return r;
    }

    byte[] bytes() {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      BinaryEncoder e = EncoderFactory.get().binaryEncoder(out, null);
      try {
        new GenericDatumWriter<GenericRecord>(OrderEvents.SCHEMA).write(avro(), e);
        e.flush();
      } catch (IOException ex) {
        throw new UncheckedIOException(ex);
      }
      return out.toByteArray();
    }
  }

  /**
   * {@code n} orders of 12 customers over about two hours, in event-time order: each placed, then
   * (mostly) paid a few minutes later, then shipped or (sometimes) cancelled.
   */
  static List<OrderEvent> generate(long seed, int n) {
    Random random = new Random(seed);
    List<OrderEvent> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String id = "o-" + i;
      String customer = "c-" + random.nextInt(12);
      String currency = random.nextInt(4) == 0 ? "USD" : "EUR";
      long cents = 100 + random.nextInt(20_000);
      long placed = T0 + (long) i * 7_000 + random.nextInt(5_000);
      out.add(new OrderEvent(id, customer, "placed", cents, currency, placed));
      if (random.nextInt(10) < 8) {
        long paid = placed + 60_000 + random.nextInt(240_000);
        out.add(new OrderEvent(id, customer, "paid", cents, currency, paid));
        String last = random.nextInt(10) < 8 ? "shipped" : "cancelled";
        out.add(new OrderEvent(id, customer, last, cents, currency, paid + random.nextInt(3_600_000)));
      }
    }
    out.sort(java.util.Comparator.comparingLong(OrderEvent::ts));
    return out;
  }
}
