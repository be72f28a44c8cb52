package com.example.orders;

import dev.kappabeam.formats.AvroFormat;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import org.apache.avro.Schema;

/**
 * How the shop's order topic becomes events: each record's value is one {@code Order} in Avro
 * binary ({@code order.avsc}); an order's status changes are separate events, so the id that
 * de-duplication keys on is the order id and the status; the event time is {@code ts}.
 */
public final class OrderEvents {
  private OrderEvents() {}

  /** The order schema, from {@code order.avsc} on the class path. */
  public static final Schema SCHEMA = schema();

  /** The format of the order topic. */
  public static final AvroFormat FORMAT =
      AvroFormat.withWriterSchema("orders-avro", SCHEMA)
          .withId("order_id", "status")
          .withEventTime("ts");

  private static Schema schema() {
    try (InputStream in = OrderEvents.class.getResourceAsStream("order.avsc")) {
      if (in == null) {
        throw new IllegalStateException("order.avsc is not on the class path");
      }
      return new Schema.Parser().parse(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
