package dev.kappabeam.transforms.events;

import dev.kappabeam.transforms.CounterNames;
import dev.kappabeam.transforms.time.Timestamps;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * Raw records to valid {@link Event}s plus {@link DeadLetter}s, with the rules of {@link
 * EventParser}.
 *
 * <p>Bounded and unbounded alike; element-wise, no windowing. Each event is output with its event
 * time ({@code ts}) as the element timestamp. Sources should already stamp records with event time
 * (the Kafka source's timestamp policy does); for sources that do not, the timestamp is moved here,
 * which may make the event late downstream but never loses it. Dead letters keep the input record's
 * timestamp. Counters: {@code read}, {@code parsed}, {@code dead_lettered}.
 *
 * <pre>{@code
 * PCollectionTuple parsed = records.apply("ParseEvents", Events.parse());
 * PCollection<Event> events = parsed.get(ParseEvents.EVENTS);
 * PCollection<DeadLetter> deadLetters = parsed.get(ParseEvents.DEAD_LETTERS);
 * }</pre>
 */
public final class ParseEvents extends PTransform<PCollection<SourceRecord>, PCollectionTuple> {
  public static final TupleTag<Event> EVENTS = new TupleTag<Event>("events") {};
  public static final TupleTag<DeadLetter> DEAD_LETTERS =
      new TupleTag<DeadLetter>("deadLetters") {};

  ParseEvents() {}

  @Override
  public PCollectionTuple expand(PCollection<SourceRecord> input) {
    PCollectionTuple out =
        input.apply(
            "ParseAndValidate",
            ParDo.of(new ParseFn()).withOutputTags(EVENTS, TupleTagList.of(DEAD_LETTERS)));
    out.get(EVENTS).setCoder(EventCoder.of());
    out.get(DEAD_LETTERS).setCoder(DeadLetter.Coder.of());
    return out;
  }

  /**
   * The parse with its counters ({@code read}, {@code parsed}, {@code dead_lettered}), for steps
   * that parse and do more in one pass ({@link BoundedDedup#parseIntoBuckets}).
   */
  static final class CountingParser implements java.io.Serializable {
    private final Counter read = Metrics.counter(CounterNames.NAMESPACE, CounterNames.READ);
    private final Counter parsed = Metrics.counter(CounterNames.NAMESPACE, CounterNames.PARSED);
    private final Counter deadLettered =
        Metrics.counter(CounterNames.NAMESPACE, CounterNames.DEAD_LETTERED);
    private final boolean afterSourceParse;
    private transient EventParser.@Nullable Reader reader;
    private transient long valid;
    private transient long invalid;

    /**
     * @param afterSourceParse true where the source may have parsed the same record on this thread
     *     to stamp its event time ({@link EventParser#parseOnce}); false parses with buffers of
     *     this parser's own
     */
    CountingParser(boolean afterSourceParse) {
      this.afterSourceParse = afterSourceParse;
    }

    /** Parses one record; counted in this parser until {@link #flush}. */
    EventParser.Result parse(SourceRecord record) {
      EventParser.Result r;
      if (afterSourceParse) {
        r = EventParser.parseOnce(record.value());
      } else {
        if (reader == null) {
          reader = new EventParser.Reader();
        }
        r = reader.parse(record.value());
      }
      if (r.isValid()) {
        valid++;
      } else {
        invalid++;
      }
      return r;
    }

    /**
     * Adds what was parsed since the last flush to the counters: once per bundle rather than per
     * record (each increment looks up the step's metrics container in a thread-local).
     */
    void flush() {
      if (valid + invalid > 0) {
        read.inc(valid + invalid);
        parsed.inc(valid);
        deadLettered.inc(invalid);
        valid = 0;
        invalid = 0;
      }
    }
  }

  static final class ParseFn extends DoFn<SourceRecord, Event> {
    private final CountingParser parser = new CountingParser(true);

    @ProcessElement
    public void process(@Element SourceRecord record, MultiOutputReceiver out) {
      EventParser.Result r = parser.parse(record);
      if (r.isValid()) {
        Event e = r.event();
        out.get(EVENTS).outputWithTimestamp(e, new Instant(e.timestampMillis()));
      } else {
        out.get(DEAD_LETTERS).output(new DeadLetter(record, r.error(), r.detail()));
      }
    }

    @FinishBundle
    public void finishBundle() {
      parser.flush();
    }

    /**
     * Event time may be earlier than the timestamp a source gave the record (e.g. processing time);
     * the event is then judged by the lateness rules downstream rather than rejected here.
     */
    @Override
    @SuppressWarnings("deprecation")
    public Duration getAllowedTimestampSkew() {
      return Timestamps.ANY_SKEW;
    }
  }
}
