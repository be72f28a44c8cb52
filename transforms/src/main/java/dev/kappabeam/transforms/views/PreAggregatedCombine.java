package dev.kappabeam.transforms.views;

import dev.kappabeam.transforms.time.Timestamps;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.beam.sdk.coders.CannotProvideCoderException;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.transforms.windowing.IntervalWindow;
import org.apache.beam.sdk.transforms.windowing.PaneInfo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.joda.time.Instant;

/**
 * {@code Combine.perKey(fn)} with the events of one bundle folded into one accumulator per key and
 * window before the keyed windowed state. Unbounded: the runner's per-element window and trigger
 * bookkeeping (Beam's {@code ReduceFnRunner}, most of a streaming view's cost) then runs once per
 * key, window and bundle instead of once per event. Bounded: a hash-based pre-combine in place of
 * the batch runners' sort-based one; at most {@link #MAX_PARTIALS} partials are held per instance.
 * Session partials span several gap-sized windows: only for runners whose session merge takes
 * windows of any length (every streaming runner; not Flink's batch combine, see {@link
 * ViewTransform}).
 *
 * <p>Same answer as {@code Combine.perKey(fn)}: the accumulators are merged with {@code fn}'s own
 * {@code mergeAccumulators}, the windowing, triggers, allowed lateness and accumulating panes are
 * the input's, and each final pane holds every event. A bundle's events of one key that fall into
 * the same window are one input to the windowed state, so where several late events of a window
 * arrive in one bundle one late pane carries all of them (panes accumulate: the row written last is
 * the same). Session windows ({@code mergeSessions}): the events of a key whose session windows
 * overlap within the bundle are folded, as they arrive, into one element whose window spans them,
 * which the session merge would have produced anyway. Partials keep the earliest event time as
 * timestamp, so they hold the watermark back exactly as their events would.
 *
 * <pre>{@code
 * keyed.apply(window).apply("CountPerMinute", PreAggregatedCombine.of(new ActivityFn(), false));
 * }</pre>
 */
public final class PreAggregatedCombine<E, A, S>
    extends PTransform<PCollection<KV<String, E>>, PCollection<KV<String, S>>> {
  private final Combine.CombineFn<E, A, S> fn;
  private final boolean mergeSessions;

  private PreAggregatedCombine(Combine.CombineFn<E, A, S> fn, boolean mergeSessions) {
    this.fn = fn;
    this.mergeSessions = mergeSessions;
  }

  /**
   * @param mergeSessions true when the input is in session windows (interval windows merged where
   *     they overlap); false for non-merging windows, whose windows are kept apart
   */
  public static <E, A, S> PreAggregatedCombine<E, A, S> of(
      Combine.CombineFn<E, A, S> fn, boolean mergeSessions) {
    return new PreAggregatedCombine<>(Objects.requireNonNull(fn, "fn"), mergeSessions);
  }

  @Override
  public PCollection<KV<String, S>> expand(PCollection<KV<String, E>> input) {
    Coder<A> accumulatorCoder;
    CoderRegistry registry = input.getPipeline().getCoderRegistry();
    try {
      accumulatorCoder = fn.getAccumulatorCoder(registry, eventCoder(input));
    } catch (CannotProvideCoderException e) {
      throw new IllegalStateException("no coder for the accumulator of " + fn, e);
    }
    return input
        .apply("PreAggregate", ParDo.of(new PreAggregateFn<>(fn, mergeSessions)))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), accumulatorCoder))
        .apply("Combine", Combine.perKey(new MergeFn<>(fn, accumulatorCoder, eventCoder(input))));
  }

  /** The event coder of a keyed input. */
  @SuppressWarnings("unchecked")
  static <E> Coder<E> eventCoder(PCollection<KV<String, E>> input) {
    return ((KvCoder<String, E>) input.getCoder()).getValueCoder();
  }

  /** One key's partial in one window: the accumulator and its earliest event time. */
  private static final class Partial<A> {
    BoundedWindow window;
    A accumulator;
    long earliest;

    Partial(BoundedWindow window, A accumulator, long earliest) {
      this.window = window;
      this.accumulator = accumulator;
      this.earliest = earliest;
    }
  }

  /**
   * Folds a bundle's events per key and window and emits the partials when the bundle finishes, or
   * earlier when more than {@link #MAX_PARTIALS} are held (a batch runner's bundle can be a whole
   * partition; emitting early only means more, smaller partials, merged downstream all the same).
   */
  static final class PreAggregateFn<E, A> extends DoFn<KV<String, E>, KV<String, A>> {
    private final Combine.CombineFn<E, A, ?> fn;
    private final boolean mergeSessions;
    private transient Fold<E, A> fold;

    PreAggregateFn(Combine.CombineFn<E, A, ?> fn, boolean mergeSessions) {
      this.fn = fn;
      this.mergeSessions = mergeSessions;
    }

    @StartBundle
    public void startBundle() {
      fold = new Fold<>(fn, mergeSessions);
    }

    @ProcessElement
    public void process(
        @Element KV<String, E> element,
        @Timestamp Instant timestamp,
        BoundedWindow window,
        OutputReceiver<KV<String, A>> out) {
      if (fold.add(element.getKey(), window, timestamp.getMillis(), element.getValue())) {
        fold.drain(
            (key, acc, w, earliest) ->
                out.outputWindowedValue(
                    KV.of(key, acc), new Instant(earliest), List.of(w), PaneInfo.NO_FIRING));
      }
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext out) {
      fold.drain((key, acc, w, earliest) -> out.output(KV.of(key, acc), new Instant(earliest), w));
    }

    /** A partial emitted early carries the earliest event time of its window, not the current. */
    @Override
    @SuppressWarnings("deprecation")
    public org.joda.time.Duration getAllowedTimestampSkew() {
      return Timestamps.ANY_SKEW;
    }
  }

  /**
   * One bundle's events folded per key and window: one accumulator per key and (fixed) window, or
   * per key and session, sessions merged where they overlap as the session merge would.
   */
  static final class Fold<E, A> {
    /** Receives the partials a {@link Fold} drains. */
    interface Sink<A> {
      void accept(String key, A accumulator, BoundedWindow window, long earliestEventTime);
    }

    private final Combine.CombineFn<E, A, ?> fn;
    private final boolean mergeSessions;

    /** Sessions: each key's partials, merged as they grow. */
    private final Map<String, List<Partial<A>>> byKey = new HashMap<>();

    /** Fixed windows: one partial per key and window, found by hash (a key may hold thousands). */
    private final Map<KeyAndWindow, Partial<A>> byKeyAndWindow = new HashMap<>();

    private int held;

    Fold(Combine.CombineFn<E, A, ?> fn, boolean mergeSessions) {
      this.fn = fn;
      this.mergeSessions = mergeSessions;
    }

    /** Adds an event; true when more than {@link #MAX_PARTIALS} are held (drain now). */
    boolean add(String key, BoundedWindow window, long timestamp, E event) {
      Partial<A> p;
      if (mergeSessions) {
        List<Partial<A>> partials = byKey.computeIfAbsent(key, k -> new ArrayList<>(2));
        p = mergeInto(partials, window);
        if (p == null) {
          p = new Partial<>(window, fn.createAccumulator(), timestamp);
          partials.add(p);
          held++;
        }
      } else {
        KeyAndWindow at = new KeyAndWindow(key, window);
        p = byKeyAndWindow.get(at);
        if (p == null) {
          p = new Partial<>(window, fn.createAccumulator(), timestamp);
          byKeyAndWindow.put(at, p);
          held++;
        }
      }
      p.accumulator = fn.addInput(p.accumulator, event);
      p.earliest = Math.min(p.earliest, timestamp);
      return held > MAX_PARTIALS;
    }

    /** Hands every partial to {@code out} and starts empty. */
    void drain(Sink<A> out) {
      for (Map.Entry<String, List<Partial<A>>> key : byKey.entrySet()) {
        for (Partial<A> p : key.getValue()) {
          out.accept(key.getKey(), p.accumulator, p.window, p.earliest);
        }
      }
      for (Map.Entry<KeyAndWindow, Partial<A>> e : byKeyAndWindow.entrySet()) {
        Partial<A> p = e.getValue();
        out.accept(e.getKey().key(), p.accumulator, p.window, p.earliest);
      }
      byKey.clear();
      byKeyAndWindow.clear();
      held = 0;
    }

    /** A key and one of its fixed windows. */
    private record KeyAndWindow(String key, BoundedWindow window) {}

    /**
     * The key's partial whose session the event's window overlaps, grown to span it; partials the
     * grown session now overlaps are merged into it, as the session merge would. Null when the
     * event starts a session of its own in this bundle.
     */
    private Partial<A> mergeInto(List<Partial<A>> partials, BoundedWindow window) {
      IntervalWindow w = (IntervalWindow) window;
      Partial<A> into = null;
      for (int i = 0; i < partials.size(); i++) {
        Partial<A> p = partials.get(i);
        IntervalWindow pw = (IntervalWindow) p.window;
        if (!overlaps(pw, w)) {
          continue;
        }
        if (into == null) {
          into = p;
          into.window = pw.span(w);
        } else {
          into.window = ((IntervalWindow) into.window).span(pw);
          into.accumulator = fn.mergeAccumulators(List.of(into.accumulator, p.accumulator));
          into.earliest = Math.min(into.earliest, p.earliest);
          partials.remove(i--);
          held--;
        }
      }
      if (into != null) {
        // The grown session may now reach partials checked before it grew.
        for (int i = 0; i < partials.size(); i++) {
          Partial<A> p = partials.get(i);
          if (p != into && overlaps((IntervalWindow) into.window, (IntervalWindow) p.window)) {
            into.window = ((IntervalWindow) into.window).span((IntervalWindow) p.window);
            into.accumulator = fn.mergeAccumulators(List.of(into.accumulator, p.accumulator));
            into.earliest = Math.min(into.earliest, p.earliest);
            partials.remove(i);
            held--;
            i = -1;
          }
        }
      }
      return into;
    }

    /** Strictly overlapping intervals: these the session merge always merges. */
    private static boolean overlaps(IntervalWindow a, IntervalWindow b) {
      return a.start().isBefore(b.end()) && b.start().isBefore(a.end());
    }
  }

  /** Partials held by one {@link PreAggregateFn} instance before it emits them early. */
  static final int MAX_PARTIALS = 50_000;

  /** Combines partial accumulators with {@code fn}'s merge, and extracts as {@code fn} does. */
  static final class MergeFn<E, A, S> extends Combine.CombineFn<A, A, S> {
    private final Combine.CombineFn<E, A, S> fn;
    private final Coder<A> accumulatorCoder;
    private final Coder<E> eventCoder;

    MergeFn(Combine.CombineFn<E, A, S> fn, Coder<A> accumulatorCoder, Coder<E> eventCoder) {
      this.fn = fn;
      this.accumulatorCoder = accumulatorCoder;
      this.eventCoder = eventCoder;
    }

    @Override
    public A createAccumulator() {
      return fn.createAccumulator();
    }

    @Override
    public A addInput(A accumulator, A partial) {
      return fn.mergeAccumulators(List.of(accumulator, partial));
    }

    @Override
    public A mergeAccumulators(Iterable<A> accumulators) {
      return fn.mergeAccumulators(accumulators);
    }

    @Override
    public S extractOutput(A accumulator) {
      return fn.extractOutput(accumulator);
    }

    @Override
    public Coder<A> getAccumulatorCoder(CoderRegistry registry, Coder<A> inputCoder) {
      return accumulatorCoder;
    }

    @Override
    public Coder<S> getDefaultOutputCoder(CoderRegistry registry, Coder<A> inputCoder)
        throws CannotProvideCoderException {
      return fn.getDefaultOutputCoder(registry, eventCoder);
    }
  }
}
