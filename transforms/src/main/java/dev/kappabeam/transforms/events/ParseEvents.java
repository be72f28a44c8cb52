package dev.kappabeam.transforms.events;

import dev.kappabeam.transforms.CounterNames;
import dev.kappabeam.transforms.time.Timestamps;
import java.util.Objects;
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
 * Raw records to valid events plus {@link DeadLetter}s, with the rules of an {@link EventFormat}
 * (for the reference workload, {@link EventParser}'s) and the checks every format's events meet: an
 * id usable as a key, an event time from 1970 to 9999, a parse that does not throw.
 *
 * <p>Bounded and unbounded alike; element-wise, no windowing. Each event is output with its event
 * time as the element timestamp. Sources should already stamp records with event time (the Kafka
 * source's timestamp policy does); for sources that do not, the timestamp is moved here, which may
 * make the event late downstream but never loses it. Dead letters keep the input record's
 * timestamp. Counters: {@code read}, {@code parsed}, {@code dead_lettered}.
 *
 * <pre>{@code
 * ParseEvents<Order> parse = Events.parse(new OrderFormat());
 * PCollectionTuple parsed = records.apply("ParseEvents", parse);
 * PCollection<Order> orders = parsed.get(parse.events());
 * PCollection<DeadLetter> deadLetters = parsed.get(ParseEvents.DEAD_LETTERS);
 * }</pre>
 */
public final class ParseEvents<E> extends PTransform<PCollection<SourceRecord>, PCollectionTuple> {
  /** The events of the reference format ({@link #events()} of {@link Events#parse()}). */
  public static final TupleTag<Event> EVENTS = new TupleTag<Event>("events") {};

  public static final TupleTag<DeadLetter> DEAD_LETTERS =
      new TupleTag<DeadLetter>("deadLetters") {};

  private final EventFormat<E> format;

  ParseEvents(EventFormat<E> format) {
    this.format = Objects.requireNonNull(format, "format");
  }

  /** The tag of the valid events in the output. */
  public TupleTag<E> events() {
    return new TupleTag<>(EVENTS.getId());
  }

  /**
   * The parse of one record value as this step does it: the format's rules, then the checks every
   * format's events meet. Remembers the last value parsed on this thread (by identity of the
   * array), so a source that stamps event times and the parse step after it parse each record once.
   */
  public static <E> Parsed<E> parseOnce(EventFormat<E> format, byte @Nullable [] value) {
    return FormatChecks.parseOnce(format, value);
  }

  @Override
  public PCollectionTuple expand(PCollection<SourceRecord> input) {
    TupleTag<E> events = events();
    PCollectionTuple out =
        input.apply(
            "ParseAndValidate",
            ParDo.of(new ParseFn<>(format, events))
                .withOutputTags(events, TupleTagList.of(DEAD_LETTERS)));
    out.get(events).setCoder(format.coder());
    out.get(DEAD_LETTERS).setCoder(DeadLetter.Coder.of());
    return out;
  }

  /**
   * The parse with its counters ({@code read}, {@code parsed}, {@code dead_lettered}), for steps
   * that parse and do more in one pass ({@link BoundedDedup#parseIntoBuckets}).
   */
  static final class CountingParser<E> implements java.io.Serializable {
    private final Counter read = Metrics.counter(CounterNames.NAMESPACE, CounterNames.READ);
    private final Counter parsed = Metrics.counter(CounterNames.NAMESPACE, CounterNames.PARSED);
    private final Counter deadLettered =
        Metrics.counter(CounterNames.NAMESPACE, CounterNames.DEAD_LETTERED);
    private final EventFormat<E> format;
    private final boolean afterSourceParse;
    private transient EventFormat.@Nullable Reader<E> reader;
    private transient long valid;
    private transient long invalid;

    /**
     * @param afterSourceParse true where the source may have parsed the same record on this thread
     *     to stamp its event time ({@link ParseEvents#parseOnce}); false parses with a reader of
     *     this parser's own
     */
    CountingParser(EventFormat<E> format, boolean afterSourceParse) {
      this.format = format;
      this.afterSourceParse = afterSourceParse;
    }

    /** Parses one record; counted in this parser until {@link #flush}. */
    Parsed<E> parse(SourceRecord record) {
      Parsed<E> r;
      if (afterSourceParse) {
        r = FormatChecks.parseOnce(format, record.value());
      } else {
        if (reader == null) {
          reader = format.reader();
        }
        r = FormatChecks.parse(format, reader, record.value());
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

  static final class ParseFn<E> extends DoFn<SourceRecord, E> {
    private final CountingParser<E> parser;
    private final EventFormat<E> format;
    private final TupleTag<E> events;

    ParseFn(EventFormat<E> format, TupleTag<E> events) {
      this.parser = new CountingParser<>(format, true);
      this.format = format;
      this.events = events;
    }

    @ProcessElement
    public void process(@Element SourceRecord record, MultiOutputReceiver out) {
      Parsed<E> r = parser.parse(record);
      if (r.isValid()) {
        E e = r.event();
        out.get(events).outputWithTimestamp(e, new Instant(format.eventTimeMillis(e)));
      } else {
        out.get(DEAD_LETTERS).output(new DeadLetter(record, r.code(), r.detail()));
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
