package dev.kappabeam.transforms.views;

import dev.kappabeam.transforms.events.Event;
import dev.kappabeam.transforms.events.EventCoder;
import java.util.ArrayList;
import java.util.Comparator;
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
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.joda.time.Instant;

/**
 * {@code Combine.perKey(fn)} for windowed streams, with the events of one bundle folded into one
 * accumulator per key and window before the keyed windowed state: the runner's per-element window
 * and trigger bookkeeping (Beam's {@code ReduceFnRunner}, most of a streaming view's cost) then
 * runs once per key, window and bundle instead of once per event.
 *
 * <p>Same answer as {@code Combine.perKey(fn)}: the accumulators are merged with {@code fn}'s own
 * {@code mergeAccumulators}, the windowing, triggers, allowed lateness and accumulating panes are
 * the input's, and each final pane holds every event. A bundle's events of one key that fall into
 * the same window are one input to the windowed state, so where several late events of a window
 * arrive in one bundle one late pane carries all of them (panes accumulate: the row written last is
 * the same). Session windows ({@code mergeSessions}): the events of a key whose session windows
 * overlap within the bundle are folded into one element whose window spans them, which the session
 * merge would have produced anyway. Partials keep the earliest event time as timestamp, so they
 * hold the watermark back exactly as their events would.
 *
 * <pre>{@code
 * keyed.apply(window).apply("CountPerMinute", PreAggregatedCombine.of(new ActivityFn(), false));
 * }</pre>
 */
public final class PreAggregatedCombine<A, S>
    extends PTransform<PCollection<KV<String, Event>>, PCollection<KV<String, S>>> {
  private final Combine.CombineFn<Event, A, S> fn;
  private final boolean mergeSessions;

  private PreAggregatedCombine(Combine.CombineFn<Event, A, S> fn, boolean mergeSessions) {
    this.fn = fn;
    this.mergeSessions = mergeSessions;
  }

  /**
   * @param mergeSessions true when the input is in session windows (interval windows merged where
   *     they overlap); false for non-merging windows, whose windows are kept apart
   */
  public static <A, S> PreAggregatedCombine<A, S> of(
      Combine.CombineFn<Event, A, S> fn, boolean mergeSessions) {
    return new PreAggregatedCombine<>(Objects.requireNonNull(fn, "fn"), mergeSessions);
  }

  @Override
  public PCollection<KV<String, S>> expand(PCollection<KV<String, Event>> input) {
    Coder<A> accumulatorCoder;
    CoderRegistry registry = input.getPipeline().getCoderRegistry();
    try {
      accumulatorCoder = fn.getAccumulatorCoder(registry, EventCoder.of());
    } catch (CannotProvideCoderException e) {
      throw new IllegalStateException("no coder for the accumulator of " + fn, e);
    }
    return input
        .apply("PreAggregate", ParDo.of(new PreAggregateFn<>(fn, mergeSessions)))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), accumulatorCoder))
        .apply("Combine", Combine.perKey(new MergeFn<>(fn, accumulatorCoder)));
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

  /** Folds a bundle's events per key and window; emits the partials when the bundle finishes. */
  static final class PreAggregateFn<A> extends DoFn<KV<String, Event>, KV<String, A>> {
    private final Combine.CombineFn<Event, A, ?> fn;
    private final boolean mergeSessions;
    private transient Map<String, Map<BoundedWindow, Partial<A>>> byKey;

    PreAggregateFn(Combine.CombineFn<Event, A, ?> fn, boolean mergeSessions) {
      this.fn = fn;
      this.mergeSessions = mergeSessions;
    }

    @StartBundle
    public void startBundle() {
      byKey = new HashMap<>();
    }

    @ProcessElement
    public void process(
        @Element KV<String, Event> element, @Timestamp Instant timestamp, BoundedWindow window) {
      Partial<A> p =
          byKey
              .computeIfAbsent(element.getKey(), k -> new HashMap<>())
              .computeIfAbsent(
                  window, w -> new Partial<>(w, fn.createAccumulator(), timestamp.getMillis()));
      p.accumulator = fn.addInput(p.accumulator, element.getValue());
      p.earliest = Math.min(p.earliest, timestamp.getMillis());
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext out) {
      for (Map.Entry<String, Map<BoundedWindow, Partial<A>>> key : byKey.entrySet()) {
        List<Partial<A>> partials = new ArrayList<>(key.getValue().values());
        if (mergeSessions) {
          partials = mergeOverlapping(partials);
        }
        for (Partial<A> p : partials) {
          out.output(KV.of(key.getKey(), p.accumulator), new Instant(p.earliest), p.window);
        }
      }
      byKey = null;
    }

    /** Session windows of one key merged where they overlap, as the session merge would. */
    private List<Partial<A>> mergeOverlapping(List<Partial<A>> partials) {
      partials.sort(Comparator.comparing(p -> ((IntervalWindow) p.window).start()));
      List<Partial<A>> merged = new ArrayList<>();
      Partial<A> current = null;
      for (Partial<A> p : partials) {
        IntervalWindow w = (IntervalWindow) p.window;
        IntervalWindow c = current == null ? null : (IntervalWindow) current.window;
        if (c != null && w.start().isBefore(c.end())) {
          current.window = c.span(w);
          current.accumulator = fn.mergeAccumulators(List.of(current.accumulator, p.accumulator));
          current.earliest = Math.min(current.earliest, p.earliest);
        } else {
          current = p;
          merged.add(p);
        }
      }
      return merged;
    }
  }

  /** Combines partial accumulators with {@code fn}'s merge, and extracts as {@code fn} does. */
  static final class MergeFn<A, S> extends Combine.CombineFn<A, A, S> {
    private final Combine.CombineFn<Event, A, S> fn;
    private final Coder<A> accumulatorCoder;

    MergeFn(Combine.CombineFn<Event, A, S> fn, Coder<A> accumulatorCoder) {
      this.fn = fn;
      this.accumulatorCoder = accumulatorCoder;
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
      return fn.getDefaultOutputCoder(registry, EventCoder.of());
    }
  }
}
