package dev.kappabeam.transforms.views;

import dev.kappabeam.transforms.CounterNames;
import dev.kappabeam.transforms.events.Event;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.Combine;

/**
 * A view's {@link Combine.CombineFn} over events whose accumulator keeps saturating sums ({@link
 * Sums}): it adds and merges through the accumulator's own methods, and counts each partial that
 * saturates in {@code sums_saturated}. The accumulator is the output (a view formats it into its
 * row).
 *
 * <pre>{@code
 * final class Fn extends SaturatingCombineFn<ItemStats> {
 *   protected ItemStats empty() { return new ItemStats(); }
 *   protected Coder<ItemStats> coder() { return ItemStats.StatsCoder.of(); }
 * }
 * }</pre>
 */
public abstract class SaturatingCombineFn<A extends SaturatingCombineFn.Accumulator<A>>
    extends Combine.CombineFn<Event, A, A> {
  /** What the accumulator of such a view can do. */
  public interface Accumulator<A> {
    /** Adds one event; returns this. */
    A add(Event e);

    /** Adds another partial of the same key and window; returns this. */
    A merge(A other);

    /** Whether a sum stopped at {@link Sums#SATURATED}. */
    boolean isSaturated();
  }

  private final Counter saturated =
      Metrics.counter(CounterNames.NAMESPACE, CounterNames.SUMS_SATURATED);

  /** A new, empty accumulator. */
  protected abstract A empty();

  /** The accumulator's (and output's) coder. */
  protected abstract Coder<A> coder();

  @Override
  public final A createAccumulator() {
    return empty();
  }

  @Override
  public final A addInput(A acc, Event e) {
    boolean before = acc.isSaturated();
    acc.add(e);
    if (!before && acc.isSaturated()) {
      saturated.inc();
    }
    return acc;
  }

  @Override
  public final A mergeAccumulators(Iterable<A> accs) {
    A out = empty();
    boolean before = false;
    for (A a : accs) {
      before |= a.isSaturated();
      out.merge(a);
    }
    if (!before && out.isSaturated()) {
      saturated.inc();
    }
    return out;
  }

  @Override
  public final A extractOutput(A acc) {
    return acc;
  }

  @Override
  public final Coder<A> getAccumulatorCoder(CoderRegistry r, Coder<Event> in) {
    return coder();
  }

  @Override
  public final Coder<A> getDefaultOutputCoder(CoderRegistry r, Coder<Event> in) {
    return coder();
  }
}
