package dev.kappabeam.transforms;

import dev.kappabeam.transforms.events.SourceRecord;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TimestampedValue;
import org.joda.time.Instant;

/** Builds reference-workload records for tests. */
public final class TestRecords {
  public static final Instant T0 = Instant.parse("2026-11-25T10:00:00Z");
  private static final AtomicLong OFFSETS = new AtomicLong();

  private TestRecords() {}

  /** {@code T0} plus minutes, seconds and millis. */
  public static Instant at(int minutes, int seconds, int millis) {
    return T0.plus(org.joda.time.Duration.millis(minutes * 60_000L + seconds * 1_000L + millis));
  }

  public static Instant at(int minutes, int seconds) {
    return at(minutes, seconds, 0);
  }

  public static String json(String eventId, String user, String type, Instant ts) {
    return "{\"event_id\":\""
        + eventId
        + "\",\"user_id\":\""
        + user
        + "\",\"type\":\""
        + type
        + "\",\"ts\":\""
        + ts
        + "\"}";
  }

  public static String purchaseJson(
      String eventId, String user, String item, long cents, Instant ts) {
    return "{\"event_id\":\""
        + eventId
        + "\",\"user_id\":\""
        + user
        + "\",\"type\":\"purchase\",\"item\":\""
        + item
        + "\",\"amount_cents\":"
        + cents
        + ",\"ts\":\""
        + ts
        + "\"}";
  }

  /** A record on topic "events", partition 0, with a fresh offset. */
  public static SourceRecord record(String json) {
    return new SourceRecord(
        "events", 0, OFFSETS.incrementAndGet(), null, json.getBytes(StandardCharsets.UTF_8));
  }

  /** A record stamped with its event time, as the Kafka source's timestamp policy does. */
  public static TimestampedValue<SourceRecord> event(
      String eventId, String user, String type, Instant ts) {
    return TimestampedValue.of(record(json(eventId, user, type, ts)), ts);
  }

  public static TimestampedValue<SourceRecord> purchase(
      String eventId, String user, String item, long cents, Instant ts) {
    return TimestampedValue.of(record(purchaseJson(eventId, user, item, cents, ts)), ts);
  }

  public static Row activity(
      Instant windowStart, String type, long events, long users, long revenue) {
    return Row.withSchema(dev.kappabeam.transforms.views.Views.ACTIVITY_PER_MINUTE.schema())
        .addValues(windowStart, type, events, users, revenue)
        .build();
  }

  public static Row itemRevenue(Instant windowStart, String item, long purchases, long revenue) {
    return Row.withSchema(dev.kappabeam.transforms.views.Views.ITEM_REVENUE_HOURLY.schema())
        .addValues(windowStart, item, purchases, revenue)
        .build();
  }

  public static Row session(String user, Instant start, Instant end, long events, long purchases) {
    return Row.withSchema(dev.kappabeam.transforms.views.Views.USER_SESSIONS.schema())
        .addValues(user, start, end, events, purchases)
        .build();
  }
}
