package dev.kappabeam.transforms.events;

import dev.kappabeam.transforms.CounterNames;
import dev.kappabeam.transforms.time.Timestamps;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.coders.CustomCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.ListCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * The parts of the bounded de-duplication, for steps that do more than de-duplicate in one pass:
 * each bundle's events gathered per hash bucket of the event_id into one list per bucket ({@link
 * Buffer}), the lists grouped by bucket, then one copy kept per event_id ({@link #keepOneCopy}).
 * {@link DeduplicateEvents} on bounded input is these parts around a {@code GroupByKey}.
 *
 * <p>{@link #parseIntoBuckets} parses records straight into the lists, and its dead letters ride in
 * the same lists to the step after the grouping. That step has one output, so a runner that does
 * not fuse the consumers of a two-output step keeps it fused with what follows: Beam 2.62's Flink
 * batch runner serialises the output of a step with two outputs once and decodes all of it once per
 * output, which cost a sixth of a historical replay's time with {@link ParseEvents} in front of the
 * bucketing (its events and dead letters go to different consumers).
 */
public final class BoundedDedup {
  private BoundedDedup() {}

  /** Hash buckets of the event_id: a few thousand lists to sort per run, far more than workers. */
  public static final int BUCKETS = 256;

  /** Events a {@link Buffer} holds before its lists are emitted early. */
  static final int MAX_HELD = 20_000;

  private static final Counter DUPLICATES =
      Metrics.counter(CounterNames.NAMESPACE, CounterNames.DUPLICATES_REMOVED);
  private static final Counter CONFLICTING =
      Metrics.counter(CounterNames.NAMESPACE, CounterNames.DUPLICATES_CONFLICTING);

  /** Coder of a bucket and its list. */
  public static <E> KvCoder<Integer, Bucketed<E>> coder(EventFormat<E> format) {
    return KvCoder.of(VarIntCoder.of(), new BucketedCoder<>(format.coder()));
  }

  /**
   * Bounded records to bucket lists: the rules and counters of {@link ParseEvents}; each valid
   * event in the list of its event_id's bucket, each dead letter in some list (spread by offset).
   */
  public static <E>
      PTransform<PCollection<SourceRecord>, PCollection<KV<Integer, Bucketed<E>>>> parseIntoBuckets(
          EventFormat<E> format) {
    return new PTransform<>() {
      @Override
      public PCollection<KV<Integer, Bucketed<E>>> expand(PCollection<SourceRecord> records) {
        if (records.isBounded() != PCollection.IsBounded.BOUNDED) {
          throw new IllegalArgumentException("parseIntoBuckets is for bounded input");
        }
        return records
            .apply("ParseIntoBuckets", ParDo.of(new ParseIntoBucketsFn<>(format)))
            .setCoder(coder(format));
      }
    };
  }

  /** Receives what {@link #keepOneCopy} keeps. */
  public interface Kept<E> {
    /** The copy kept of an event_id, to be output at its own event time. */
    void event(E event);

    /** A dead letter that rode in a list. */
    void deadLetter(DeadLetter deadLetter);
  }

  /**
   * One bucket's lists: per event_id the copy with the earliest event time (ties broken by content,
   * so the choice is deterministic; exact re-sends are identical anyway), unless a primer copy of
   * the event_id exists: then every copy is removed. Counts {@code duplicates_removed} and {@code
   * duplicates_conflicting}. Reads {@code lists} once (a runner may give a one-shot iterable).
   */
  public static <E> void keepOneCopy(
      EventFormat<E> format, Iterable<Bucketed<E>> lists, Kept<E> out) {
    Map<String, E> primers = new HashMap<>();
    List<E> counted = new ArrayList<>();
    for (Bucketed<E> list : lists) {
      if (list.primer) {
        for (E e : list.events) {
          primers.putIfAbsent(format.id(e), e);
        }
      } else {
        counted.addAll(list.events);
      }
      for (DeadLetter d : list.deadLetters) {
        out.deadLetter(d);
      }
    }
    Map<String, Copies<E>> kept = new HashMap<>(counted.size() * 4 / 3 + 16);
    long removed = 0;
    for (E e : counted) {
      String id = format.id(e);
      if (!primers.isEmpty()) {
        E primer = primers.get(id);
        if (primer != null) {
          removed++;
          if (!format.sameContent(primer, e)) {
            CONFLICTING.inc();
          }
          continue;
        }
      }
      Copies<E> fresh = new Copies<>(e);
      Copies<E> c = kept.putIfAbsent(id, fresh);
      if (c == null) {
        continue;
      }
      removed++;
      c.n++;
      long t = format.eventTimeMillis(e);
      long keptTime = format.eventTimeMillis(c.kept);
      if (t < keptTime || t == keptTime && format.compareContent(e, c.kept) < 0) {
        c.kept = e;
      }
    }
    if (removed > 0) {
      DUPLICATES.inc(removed);
      for (E e : counted) {
        Copies<E> c = kept.get(format.id(e));
        if (c != null && c.n > 1 && !format.sameContent(e, c.kept)) {
          CONFLICTING.inc();
        }
      }
    }
    for (Copies<E> c : kept.values()) {
      out.event(c.kept);
    }
  }

  /** The copy kept of an event_id so far, and how many counted copies were seen. */
  private static final class Copies<E> {
    E kept;
    int n = 1;

    Copies(E first) {
      this.kept = first;
    }
  }

  /** Receives a bucket's list and the list's timestamp (its earliest element's). */
  interface Emitter<E> {
    void emit(KV<Integer, Bucketed<E>> list, Instant timestamp);
  }

  /**
   * A bundle's events (and dead letters) per hash bucket, emitted as one list per bucket when the
   * bundle finishes, or early once {@link #MAX_HELD} are held: the grouping then sorts and ships a
   * few thousand lists instead of every event on its own.
   */
  static final class Buffer<E> {
    private final EventFormat<E> format;
    private final boolean primer;

    @SuppressWarnings("unchecked")
    private final Held<E>[] held = new Held[BUCKETS];

    private final List<Held<E>> used = new ArrayList<>();
    private int count;

    Buffer(EventFormat<E> format, boolean primer) {
      this.format = format;
      this.primer = primer;
    }

    /** Adds an event; true when the buffer should be drained. */
    boolean add(E e, long timestampMillis) {
      held(Math.floorMod(format.id(e).hashCode(), BUCKETS), timestampMillis).events.add(e);
      return ++count >= MAX_HELD;
    }

    /** Adds a dead letter to a list chosen by its offset; true when it should be drained. */
    boolean add(DeadLetter d, long timestampMillis) {
      SourceRecord r = d.record();
      int bucket = Math.floorMod(Long.hashCode(r.offset()) * 31 + r.partition(), BUCKETS);
      held(bucket, timestampMillis).deadLetters.add(d);
      return ++count >= MAX_HELD;
    }

    private Held<E> held(int bucket, long timestampMillis) {
      Held<E> h = held[bucket];
      if (h == null) {
        h = new Held<>(bucket);
        held[bucket] = h;
        used.add(h);
      }
      if (timestampMillis < h.earliest) {
        h.earliest = timestampMillis;
      }
      return h;
    }

    void drain(Emitter<E> out) {
      for (Held<E> h : used) {
        out.emit(
            KV.of(h.index, new Bucketed<>(primer, h.events, h.deadLetters)),
            new Instant(h.earliest));
        held[h.index] = null;
      }
      used.clear();
      count = 0;
    }

    /** One bucket's elements of the bundle so far. */
    private static final class Held<E> {
      final int index;
      final List<E> events = new ArrayList<>();
      final List<DeadLetter> deadLetters = new ArrayList<>();
      long earliest = Long.MAX_VALUE;

      Held(int index) {
        this.index = index;
      }
    }
  }

  /** {@link ParseEvents}' parse, then into the bundle's bucket lists. */
  static final class ParseIntoBucketsFn<E> extends DoFn<SourceRecord, KV<Integer, Bucketed<E>>> {
    private final EventFormat<E> format;
    private final ParseEvents.CountingParser<E> parser;
    private transient Buffer<E> buffer;

    ParseIntoBucketsFn(EventFormat<E> format) {
      this.format = format;
      this.parser = new ParseEvents.CountingParser<>(format, false);
    }

    @StartBundle
    public void startBundle() {
      buffer = new Buffer<>(format, false);
    }

    @ProcessElement
    public void process(
        @Element SourceRecord record,
        @Timestamp Instant timestamp,
        OutputReceiver<KV<Integer, Bucketed<E>>> out) {
      Parsed<E> r = parser.parse(record);
      boolean full =
          r.isValid()
              ? buffer.add(r.event(), format.eventTimeMillis(r.event()))
              : buffer.add(new DeadLetter(record, r.code(), r.detail()), timestamp.getMillis());
      if (full) {
        buffer.drain(out::outputWithTimestamp);
      }
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext out) {
      buffer.drain((list, ts) -> out.output(list, ts, GlobalWindow.INSTANCE));
      buffer = null;
      parser.flush();
    }

    /** A list carries its earliest element's time, which may be behind the current record's. */
    @Override
    @SuppressWarnings("deprecation")
    public Duration getAllowedTimestampSkew() {
      return Timestamps.ANY_SKEW;
    }
  }

  /**
   * A bundle's elements of one hash bucket: all primer copies or all counted ones (the flag is
   * written once per list, not once per event), and the dead letters that ride along.
   */
  public static final class Bucketed<E> {
    final boolean primer;
    final List<E> events;
    final List<DeadLetter> deadLetters;

    Bucketed(boolean primer, List<E> events, List<DeadLetter> deadLetters) {
      this.primer = primer;
      this.events = events;
      this.deadLetters = deadLetters;
    }
  }

  private static final class BucketedCoder<E> extends CustomCoder<Bucketed<E>> {
    private static final Coder<List<DeadLetter>> DEAD_LETTERS = ListCoder.of(DeadLetter.Coder.of());
    private static final int PRIMER = 1;
    private static final int WITH_DEAD_LETTERS = 2;
    private final Coder<List<E>> events;

    BucketedCoder(Coder<E> eventCoder) {
      this.events = ListCoder.of(eventCoder);
    }

    @Override
    public void encode(Bucketed<E> value, OutputStream out) throws IOException {
      boolean dead = !value.deadLetters.isEmpty();
      out.write((value.primer ? PRIMER : 0) | (dead ? WITH_DEAD_LETTERS : 0));
      events.encode(value.events, out);
      if (dead) {
        DEAD_LETTERS.encode(value.deadLetters, out);
      }
    }

    @Override
    public Bucketed<E> decode(InputStream in) throws IOException {
      int flags = in.read();
      if (flags < 0) {
        throw new CoderException("truncated bucket list");
      }
      List<E> list = events.decode(in);
      List<DeadLetter> dead =
          (flags & WITH_DEAD_LETTERS) != 0 ? DEAD_LETTERS.decode(in) : List.of();
      return new Bucketed<>((flags & PRIMER) != 0, list, dead);
    }

    @Override
    public void verifyDeterministic() throws NonDeterministicException {
      events.verifyDeterministic();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof BucketedCoder && events.equals(((BucketedCoder<?>) o).events);
    }

    @Override
    public int hashCode() {
      return events.hashCode();
    }
  }
}
