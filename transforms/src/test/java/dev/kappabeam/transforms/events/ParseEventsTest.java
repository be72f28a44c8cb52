package dev.kappabeam.transforms.events;

import static dev.kappabeam.transforms.TestRecords.T0;
import static dev.kappabeam.transforms.TestRecords.json;
import static org.junit.Assert.assertEquals;

import dev.kappabeam.transforms.CounterNames;
import dev.kappabeam.transforms.PipelineCounters;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.joda.time.Instant;
import org.junit.Rule;
import org.junit.Test;

/** {@link ParseEvents} in a pipeline: outputs, coordinates, timestamps and counters. */
public class ParseEventsTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();

  private static SourceRecord at(int partition, long offset, byte[] value) {
    return new SourceRecord(
        "orders", partition, offset, "u-1".getBytes(StandardCharsets.UTF_8), value);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  public void badRecordsBecomeDeadLettersWithReasonAndCoordinates() {
    SourceRecord good = at(0, 10, utf8(json("e-1", "u-1", "view", T0)));
    SourceRecord truncated = at(1, 11, utf8("{\"event_id\":\"e-2\",\"user_"));
    SourceRecord refund = at(2, 12, utf8(json("e-3", "u-1", "refund", T0)));
    SourceRecord tombstone = at(2, 13, null);
    SourceRecord garbage = at(3, 14, new byte[] {(byte) 0xFF, 0x00, (byte) 0xC0});

    PCollectionTuple out =
        p.apply(
                Create.of(List.of(good, truncated, refund, tombstone, garbage))
                    .withCoder(SourceRecord.Coder.of()))
            .apply(Events.parse());

    PAssert.that(out.get(ParseEvents.EVENTS))
        .containsInAnyOrder(new Event("e-1", "u-1", EventType.VIEW, null, null, T0.getMillis()));
    PAssert.that(out.get(ParseEvents.DEAD_LETTERS).apply(ParDo.of(new Describe())))
        .containsInAnyOrder(
            "orders/1@11 malformed_json",
            "orders/2@12 invalid_type: 'refund' is not one of view, click, cart, purchase",
            "orders/2@13 empty_record: record has no value (a tombstone)",
            "orders/3@14 not_utf8: record is not valid UTF-8");
    PAssert.that(out.get(ParseEvents.DEAD_LETTERS).apply(ParDo.of(new RawBytes())))
        .containsInAnyOrder(
            "{\"event_id\":\"e-2\",\"user_", json("e-3", "u-1", "refund", T0), "<null>", "FF00C0");
    PipelineResult result = p.run();
    assertEquals(5, PipelineCounters.get(result, CounterNames.READ));
    assertEquals(1, PipelineCounters.get(result, CounterNames.PARSED));
    assertEquals(4, PipelineCounters.get(result, CounterNames.DEAD_LETTERED));
  }

  @Test
  public void eventsCarryTheirEventTimeAsTimestamp() {
    Instant ts = Instant.parse("2026-11-25T10:00:00.123Z");
    PCollection<Long> stamps =
        p.apply(
                Create.of(at(0, 1, utf8(json("e-1", "u-1", "click", ts))))
                    .withCoder(SourceRecord.Coder.of()))
            .apply(Events.parse())
            .get(ParseEvents.EVENTS)
            .apply(ParDo.of(new StampOf()));
    PAssert.that(stamps).containsInAnyOrder(ts.getMillis());
    p.run();
  }

  static final class StampOf extends DoFn<Event, Long> {
    @ProcessElement
    public void process(@Element Event e, @Timestamp Instant ts, OutputReceiver<Long> out) {
      if (ts.getMillis() != e.timestampMillis()) {
        throw new AssertionError("element timestamp " + ts + " != event time of " + e);
      }
      out.output(ts.getMillis());
    }
  }

  /** Coordinates plus the reason; malformed JSON details come from Jackson, so only the code. */
  static final class Describe extends DoFn<DeadLetter, String> {
    @ProcessElement
    public void process(@Element DeadLetter d, OutputReceiver<String> out) {
      String reason = d.code().equals(ParseError.MALFORMED_JSON.code()) ? d.code() : d.reason();
      out.output(d.record() + " " + reason);
    }
  }

  /** The raw value, as text when UTF-8, else hex. */
  static final class RawBytes extends DoFn<DeadLetter, String> {
    @ProcessElement
    public void process(@Element DeadLetter d, OutputReceiver<String> out) {
      byte[] v = d.record().value();
      if (v == null) {
        out.output("<null>");
      } else if (d.code().equals(ParseError.NOT_UTF8.code())) {
        StringBuilder hex = new StringBuilder();
        for (byte b : v) {
          hex.append(String.format("%02X", b));
        }
        out.output(hex.toString());
      } else {
        out.output(new String(v, StandardCharsets.UTF_8));
      }
    }
  }
}
