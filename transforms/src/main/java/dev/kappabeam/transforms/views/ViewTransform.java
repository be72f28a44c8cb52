package dev.kappabeam.transforms.views;

import dev.kappabeam.transforms.events.Event;
import dev.kappabeam.transforms.events.EventFormat;
import dev.kappabeam.transforms.events.ReferenceFormat;
import dev.kappabeam.transforms.time.ViewWindowing;
import java.io.Serializable;
import org.apache.beam.sdk.coders.CannotProvideCoderException;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.schemas.SchemaCoder;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Filter;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.transforms.windowing.WindowFn;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Duration;

/**
 * One view: select events, window them ({@link ViewWindowing}), aggregate per key with a mergeable
 * {@link Combine.CombineFn} (window-agnostic), and format each pane as a {@link Row} of the view's
 * schema. Create through {@link Views}.
 *
 * <p>Output: one row per key per fired pane; panes accumulate, so the last pane of a key is its
 * full answer and a sink applies rows by {@link ViewDefinition#supersedes}. Bounded input gives one
 * pane per key.
 */
public final class ViewTransform<E, S> extends PTransform<PCollection<E>, PCollection<Row>> {

  /** Formats one aggregate of one key and window as a row. */
  public interface RowFormat<S> extends Serializable {
    Row format(String key, S stats, BoundedWindow window);
  }

  /** Windowing and step names of a view. */
  static final class Spec<E> implements Serializable {
    final ViewWindowing<KV<String, E>> windowing;
    final String windowStep;
    final String aggregateStep;
    final boolean sessions;

    private Spec(
        ViewWindowing<KV<String, E>> w, String windowStep, String aggregateStep, boolean sessions) {
      this.windowing = w;
      this.windowStep = windowStep;
      this.aggregateStep = aggregateStep;
      this.sessions = sessions;
    }

    static <E> Spec<E> fixed(
        Duration size, ViewParameters p, String windowStep, String aggregateStep) {
      return keyed(ViewWindowing.fixed(size), p, windowStep, aggregateStep);
    }

    /** A keyed view's windows (fixed, sliding or global) with the run's lateness and firings. */
    static <E> Spec<E> keyed(
        ViewWindowing<KV<String, E>> windows,
        ViewParameters p,
        String windowStep,
        String aggregateStep) {
      return new Spec<>(
          windows
              .withAllowedLateness(p.allowedLateness())
              .withEarlyFirings(p.earlyFiringInterval()),
          windowStep,
          aggregateStep,
          false);
    }

    static <E> Spec<E> sessions(ViewParameters p, String windowStep, String aggregateStep) {
      return new Spec<>(
          ViewWindowing.<KV<String, E>>sessions(p.sessionGap())
              .withAllowedLateness(p.allowedLateness())
              .withEarlyFirings(p.earlyFiringInterval()),
          windowStep,
          aggregateStep,
          true);
    }
  }

  private final ViewDefinition view;
  private final EventFormat<E> eventFormat;
  private final Spec<E> spec;
  private final SerializableFunction<E, Boolean> select;
  private final SerializableFunction<E, String> keyFn;
  private final Combine.CombineFn<E, ?, S> combineFn;
  private final Coder<S> statsCoder;
  private final RowFormat<S> format;

  ViewTransform(
      ViewDefinition view,
      EventFormat<E> eventFormat,
      Spec<E> spec,
      SerializableFunction<E, Boolean> select,
      SerializableFunction<E, String> keyFn,
      Combine.CombineFn<E, ?, S> combineFn,
      Coder<S> statsCoder,
      RowFormat<S> format) {
    this.view = view;
    this.eventFormat = eventFormat;
    this.spec = spec;
    this.select = select;
    this.keyFn = keyFn;
    this.combineFn = combineFn;
    this.statsCoder = statsCoder;
    this.format = format;
  }

  public ViewDefinition view() {
    return view;
  }

  /** The format of the events the view reads. */
  public EventFormat<E> eventFormat() {
    return eventFormat;
  }

  /**
   * A view of a team's own ({@link ViewSpec}), computed by the same machinery as the reference
   * views: which de-duplicated, on-time events it takes, its key, its windows (fixed, sliding or
   * the global window for a {@link ViewDefinition.Kind#KEYED} view, sessions with the run's session
   * gap for a {@link ViewDefinition.Kind#SESSION} view; lateness and early firings are the run's
   * parameters) and its aggregation, a mergeable {@code CombineFn} whose result a {@link RowFormat}
   * writes as a row.
   *
   * <pre>{@code
   * ViewTransform.of(PURCHASES_PER_USER_HOURLY, parameters)
   *     .selecting(Event::isPurchase)
   *     .keyedBy(Event::userId)
   *     .fixedWindows(Duration.standardHours(1))
   *     .aggregating(new ItemStats.Fn(), ItemStats.StatsCoder.of(), MyViews::row);
   * }</pre>
   */
  public static <E> Builder<E> of(
      ViewDefinition view, EventFormat<E> format, ViewParameters parameters) {
    return new Builder<>(view, format, parameters);
  }

  /** {@link #of(ViewDefinition, EventFormat, ViewParameters)} of reference events. */
  public static Builder<Event> of(ViewDefinition view, ViewParameters parameters) {
    return of(view, ReferenceFormat.of(), parameters);
  }

  /** See {@link ViewTransform#of}. */
  public static final class Builder<E> {
    private final ViewDefinition view;
    private final EventFormat<E> eventFormat;
    private final ViewParameters parameters;
    private SerializableFunction<E, Boolean> select = e -> true;
    private SerializableFunction<E, String> keyFn;
    private Spec<E> spec;

    private Builder(ViewDefinition view, EventFormat<E> format, ViewParameters parameters) {
      this.view = java.util.Objects.requireNonNull(view, "view");
      this.eventFormat = java.util.Objects.requireNonNull(format, "format");
      this.parameters = java.util.Objects.requireNonNull(parameters, "parameters");
    }

    /** Only the events for which {@code select} is true (default: all). */
    public Builder<E> selecting(SerializableFunction<E, Boolean> select) {
      this.select = java.util.Objects.requireNonNull(select, "select");
      return this;
    }

    /** The view's key of an event (never null). */
    public Builder<E> keyedBy(SerializableFunction<E, String> keyFn) {
      this.keyFn = java.util.Objects.requireNonNull(keyFn, "keyFn");
      return this;
    }

    /** Fixed event-time windows of {@code size}, aligned to the epoch. */
    public Builder<E> fixedWindows(Duration size) {
      if (!size.isLongerThan(Duration.ZERO)) {
        throw new IllegalArgumentException(view.name() + ": window size must be positive");
      }
      this.spec = Spec.fixed(size, parameters, "Window", "Aggregate");
      return this;
    }

    /**
     * Sliding event-time windows of {@code size} starting every {@code period} ({@code period}
     * divides {@code size}): each event counts in every window that covers it.
     */
    public Builder<E> slidingWindows(Duration size, Duration period) {
      try {
        this.spec =
            Spec.keyed(ViewWindowing.sliding(size, period), parameters, "Window", "Aggregate");
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(view.name() + ": " + e.getMessage(), e);
      }
      return this;
    }

    /**
     * One window over the whole log: a running aggregate per key (the view's key columns hold no
     * window start). In a stream its rows are updated every early firing interval (10 s when the
     * run sets none) and when the input ends; events later than the run's allowed lateness behind
     * the watermark go to the late output, as for every view.
     */
    public Builder<E> globalWindow() {
      this.spec = Spec.keyed(ViewWindowing.global(), parameters, "Window", "Aggregate");
      return this;
    }

    /** Session windows per key, with the run's session gap. */
    public Builder<E> sessions() {
      this.spec = Spec.sessions(parameters, "Window", "Aggregate");
      return this;
    }

    /** The view, aggregating each key and window with {@code fn}, formatted by {@code format}. */
    public <S> ViewTransform<E, S> aggregating(
        Combine.CombineFn<E, ?, S> fn, Coder<S> resultCoder, RowFormat<S> format) {
      if (keyFn == null || spec == null) {
        throw new IllegalStateException(
            view.name()
                + ": say keyedBy(...) and the windows (fixedWindows, slidingWindows, globalWindow"
                + " or sessions) first");
      }
      boolean sessionView = view.kind() == ViewDefinition.Kind.SESSION;
      if (sessionView != spec.sessions) {
        throw new IllegalArgumentException(
            view.name()
                + (sessionView
                    ? " is a session view (ViewDefinition.sessions): use sessions()"
                    : " is a keyed view (ViewDefinition.keyed): use fixedWindows, slidingWindows"
                        + " or globalWindow"));
      }
      return new ViewTransform<>(
          view,
          eventFormat,
          spec,
          select,
          keyFn,
          java.util.Objects.requireNonNull(fn, "fn"),
          java.util.Objects.requireNonNull(resultCoder, "resultCoder"),
          java.util.Objects.requireNonNull(format, "format"));
    }
  }

  @Override
  public PCollection<Row> expand(PCollection<E> events) {
    PCollection<KV<String, E>> windowed =
        events
            .apply("Select", Filter.by(select))
            .apply("KeyBy", ParDo.of(new KeyFn<>(keyFn)))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), eventFormat.coder()))
            .apply(spec.windowStep, spec.windowing);
    // Fixed windows: fold each bundle per key and window first (PreAggregatedCombine): in a
    // stream it spares the windowed state most per-event work; in a batch it replaces the
    // runners' sort-based pre-combine by a hash-based one. Sessions: CombineSessions (bundle
    // partials merged per key in one state cell when streaming, in one grouping when bounded).
    PCollection<KV<String, S>> aggregated =
        spec.sessions
            ? windowed.apply(spec.aggregateStep, sessions(combineFn, spec.windowing))
            : windowed.apply(spec.aggregateStep, preAggregated(combineFn, false));
    return aggregated
        .setCoder(KvCoder.of(StringUtf8Coder.of(), statsCoder))
        .apply("ToRows", ParDo.of(new FormatFn<>(view, format)))
        .setCoder(SchemaCoder.of(view.schema()));
  }

  /** What {@link BoundedViews} needs to fold this view's events in its shared pass. */
  FoldSpec<E, ?> foldSpec() {
    return foldSpec(combineFn);
  }

  private <A> FoldSpec<E, A> foldSpec(Combine.CombineFn<E, A, S> fn) {
    return new FoldSpec<>(select, keyFn, spec.windowing.windowFn(), fn, spec.sessions);
  }

  /**
   * The rest of this view on bounded input from {@link BoundedViews}' partials (in the global
   * window, keyed by key and bucket): merged per key and window, formatted as rows.
   */
  PTransform<PCollection<KV<KV<String, Long>, CombineSessions.Partial<Object>>>, PCollection<Row>>
      fromBoundedPartials() {
    return new PTransform<>() {
      @Override
      public PCollection<Row> expand(
          PCollection<KV<KV<String, Long>, CombineSessions.Partial<Object>>> partials) {
        return finish(combineFn, partials);
      }
    };
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private <A> PCollection<Row> finish(
      Combine.CombineFn<E, A, S> fn,
      PCollection<KV<KV<String, Long>, CombineSessions.Partial<Object>>> partials) {
    PCollection<KV<KV<String, Long>, CombineSessions.Partial<A>>> typed = (PCollection) partials;
    return CombineSessions.mergeBounded(typed, fn, statsCoder, spec.windowing.strategy(true))
        .apply("ToRows", ParDo.of(new FormatFn<>(view, format)))
        .setCoder(SchemaCoder.of(view.schema()));
  }

  Coder<?> accumulatorCoder(CoderRegistry registry) {
    try {
      return combineFn.getAccumulatorCoder(registry, eventFormat.coder());
    } catch (CannotProvideCoderException e) {
      throw new IllegalStateException("no coder for the accumulator of " + combineFn, e);
    }
  }

  /** A view's selection, key, windows and aggregation, for folding its events in a bundle. */
  static final class FoldSpec<E, A> implements Serializable {
    final SerializableFunction<E, Boolean> select;
    final SerializableFunction<E, String> keyFn;
    final WindowFn<Object, ?> windowFn;
    final Combine.CombineFn<E, A, ?> fn;
    final boolean sessions;

    FoldSpec(
        SerializableFunction<E, Boolean> select,
        SerializableFunction<E, String> keyFn,
        WindowFn<Object, ?> windowFn,
        Combine.CombineFn<E, A, ?> fn,
        boolean sessions) {
      this.select = select;
      this.keyFn = keyFn;
      this.windowFn = windowFn;
      this.fn = fn;
      this.sessions = sessions;
    }
  }

  private static <E, A, S> CombineSessions<E, A, S> sessions(
      Combine.CombineFn<E, A, S> fn, ViewWindowing<?> windowing) {
    return CombineSessions.of(fn, windowing.allowedLateness(), windowing.earlyFiringInterval());
  }

  private static <E, A, S> PreAggregatedCombine<E, A, S> preAggregated(
      Combine.CombineFn<E, A, S> fn, boolean sessions) {
    return PreAggregatedCombine.of(fn, sessions);
  }

  static final class KeyFn<E> extends DoFn<E, KV<String, E>> {
    private final SerializableFunction<E, String> keyFn;

    KeyFn(SerializableFunction<E, String> keyFn) {
      this.keyFn = keyFn;
    }

    @ProcessElement
    public void process(@Element E e, OutputReceiver<KV<String, E>> out) {
      out.output(KV.of(keyFn.apply(e), e));
    }
  }

  /**
   * Formats each pane as a row, and drops a pane that aggregates no event (its progress column, a
   * count of the row's events, is 0). Beam 2.62's Flink runner emits one when the watermark jumps
   * past a window's end and its garbage-collection time at once (a drained run's end, a TestStream
   * advanced to infinity): the on-time pane carries the window's events, then the closing pane
   * ({@code ClosingBehavior.FIRE_ALWAYS}) fires again over state already cleared. DirectRunner
   * fires the two as one pane. A sink would keep the full row anyway (the larger progress wins),
   * but a view's output is its rows: no row of nothing.
   */
  static final class FormatFn<S> extends DoFn<KV<String, S>, Row> {
    private final ViewDefinition view;
    private final RowFormat<S> format;

    FormatFn(ViewDefinition view, RowFormat<S> format) {
      this.view = view;
      this.format = format;
    }

    @ProcessElement
    public void process(@Element KV<String, S> kv, BoundedWindow window, OutputReceiver<Row> out) {
      Row row = format.format(kv.getKey(), kv.getValue(), window);
      if (view.progress(row) > 0) {
        out.output(row);
      }
    }
  }
}
