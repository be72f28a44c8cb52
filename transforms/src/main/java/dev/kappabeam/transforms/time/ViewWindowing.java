package dev.kappabeam.transforms.time;

import java.util.Objects;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.windowing.AfterPane;
import org.apache.beam.sdk.transforms.windowing.AfterProcessingTime;
import org.apache.beam.sdk.transforms.windowing.AfterWatermark;
import org.apache.beam.sdk.transforms.windowing.FixedWindows;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.transforms.windowing.Sessions;
import org.apache.beam.sdk.transforms.windowing.SlidingWindows;
import org.apache.beam.sdk.transforms.windowing.Trigger;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.transforms.windowing.Window.ClosingBehavior;
import org.apache.beam.sdk.transforms.windowing.WindowFn;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.WindowingStrategy;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.joda.time.Duration;

/**
 * The windowing of a view, kept apart from the aggregation: event-time windows (fixed, sliding or
 * session) or the global window, firing at the watermark, optionally with early panes every {@code
 * earlyFiringInterval} of processing time, then one late pane per late element up to {@code
 * allowedLateness}, and a closing pane (marked final) when the window expires; panes accumulate, so
 * the last pane for a window is its full answer.
 *
 * <p>The global window has no end in a stream: its panes are processing-time panes, every {@code
 * earlyFiringInterval}, or every {@link #GLOBAL_FIRING_DEFAULT} when none is set, and a last one
 * when the input ends (a bounded or drained run). Its rows are running totals per key.
 *
 * <p>Unbounded input: elements later than the allowed lateness would be dropped by the runner;
 * {@link SplitLateEvents} must run first so they leave through its late output instead. Bounded
 * input: nothing is late (the whole input is known), so lateness is unbounded and the early
 * interval is ignored by batch runners.
 *
 * <pre>{@code
 * events.apply("WindowPerMinute",
 *     ViewWindowing.<KV<String, Event>>fixed(Duration.standardMinutes(1))
 *         .withAllowedLateness(Duration.standardHours(1)));
 * }</pre>
 */
public final class ViewWindowing<T> extends PTransform<PCollection<T>, PCollection<T>> {
  /** Used as "no limit" in bounded runs; far beyond any event time, without overflowing. */
  public static final Duration UNBOUNDED_LATENESS = Duration.standardDays(365L * 100_000);

  private final WindowFn<Object, ?> windowFn;
  private final Duration allowedLateness;
  private final @Nullable Duration earlyFiringInterval;

  private ViewWindowing(
      WindowFn<Object, ?> windowFn,
      Duration allowedLateness,
      @Nullable Duration earlyFiringInterval) {
    this.windowFn = windowFn;
    this.allowedLateness = allowedLateness;
    this.earlyFiringInterval = earlyFiringInterval;
  }

  /** Fixed windows of the given size, aligned to the epoch. */
  public static <T> ViewWindowing<T> fixed(Duration size) {
    positive(size, "window size");
    return new ViewWindowing<>(FixedWindows.of(size), SplitLateEvents.DEFAULT_LATENESS, null);
  }

  /**
   * Sliding windows of {@code size}, one starting every {@code period} (aligned to the epoch): an
   * event falls in {@code size / period} windows. {@code period} must divide {@code size}.
   */
  public static <T> ViewWindowing<T> sliding(Duration size, Duration period) {
    positive(size, "window size");
    positive(period, "window period");
    if (period.isLongerThan(size) || size.getMillis() % period.getMillis() != 0) {
      throw new IllegalArgumentException(
          "a sliding window's period must divide its size, got size "
              + size
              + " and period "
              + period);
    }
    return new ViewWindowing<>(
        SlidingWindows.of(size).every(period), SplitLateEvents.DEFAULT_LATENESS, null);
  }

  /**
   * The global window: one running aggregate per key over the whole log, fired every early firing
   * interval (default {@link #GLOBAL_FIRING_DEFAULT}) and when the input ends.
   */
  public static <T> ViewWindowing<T> global() {
    return new ViewWindowing<>(new GlobalWindows(), SplitLateEvents.DEFAULT_LATENESS, null);
  }

  /** How often a global window fires in a stream when no early firing interval is set. */
  public static final Duration GLOBAL_FIRING_DEFAULT = Duration.standardSeconds(10);

  /** Session windows that close after {@code gap} without an event for the key. */
  public static <T> ViewWindowing<T> sessions(Duration gap) {
    positive(gap, "session gap");
    return new ViewWindowing<>(
        Sessions.withGapDuration(gap), SplitLateEvents.DEFAULT_LATENESS, null);
  }

  /** How long after the watermark passes a window late data still updates it (default 1 h). */
  public ViewWindowing<T> withAllowedLateness(Duration lateness) {
    Objects.requireNonNull(lateness, "lateness");
    if (lateness.getMillis() < 0) {
      throw new IllegalArgumentException("allowed lateness must be >= 0, got " + lateness);
    }
    return new ViewWindowing<>(windowFn, lateness, earlyFiringInterval);
  }

  /** Emit early (speculative) panes this often in processing time; null for none (default). */
  public ViewWindowing<T> withEarlyFirings(@Nullable Duration interval) {
    if (interval != null) {
      positive(interval, "early firing interval");
    }
    return new ViewWindowing<>(windowFn, allowedLateness, interval);
  }

  public Duration allowedLateness() {
    return allowedLateness;
  }

  public @Nullable Duration earlyFiringInterval() {
    return earlyFiringInterval;
  }

  /** Whether this is the global window (no event-time end: processing-time panes). */
  public boolean isGlobal() {
    return windowFn instanceof GlobalWindows;
  }

  /** The window function (fixed, sliding, sessions or global). */
  public WindowFn<Object, ?> windowFn() {
    return windowFn;
  }

  /** The windowing strategy this transform gives a collection, bounded or not. */
  public WindowingStrategy<?, ?> strategy(boolean bounded) {
    return window(bounded).getOutputStrategyInternal(WindowingStrategy.globalDefault());
  }

  @Override
  public PCollection<T> expand(PCollection<T> input) {
    return input.apply(window(input.isBounded() == PCollection.IsBounded.BOUNDED));
  }

  private Window<T> window(boolean bounded) {
    AfterWatermark.AfterWatermarkEarlyAndLate onTime =
        AfterWatermark.pastEndOfWindow().withLateFirings(AfterPane.elementCountAtLeast(1));
    Duration early =
        earlyFiringInterval == null && isGlobal() ? GLOBAL_FIRING_DEFAULT : earlyFiringInterval;
    Trigger trigger =
        early == null
            ? onTime
            : onTime.withEarlyFirings(
                AfterProcessingTime.pastFirstElementInPane().plusDelayOf(early));
    @SuppressWarnings("unchecked")
    WindowFn<T, ?> fn = (WindowFn<T, ?>) (WindowFn<?, ?>) windowFn;
    return Window.<T>into(fn)
        .triggering(trigger)
        .withAllowedLateness(
            bounded ? UNBOUNDED_LATENESS : allowedLateness, ClosingBehavior.FIRE_ALWAYS)
        .accumulatingFiredPanes();
  }

  private static void positive(Duration d, String what) {
    Objects.requireNonNull(d, what);
    if (d.getMillis() <= 0) {
      throw new IllegalArgumentException(what + " must be positive, got " + d);
    }
  }
}
