package dev.kappabeam.transforms.views;

import dev.kappabeam.transforms.events.Event;
import dev.kappabeam.transforms.events.EventCoder;
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
public final class ViewTransform<S> extends PTransform<PCollection<Event>, PCollection<Row>> {

  /** Formats one aggregate of one key and window as a row. */
  public interface RowFormat<S> extends Serializable {
    Row format(String key, S stats, BoundedWindow window);
  }

  /** Windowing and step names of a view. */
  static final class Spec implements Serializable {
    final ViewWindowing<KV<String, Event>> windowing;
    final String windowStep;
    final String aggregateStep;
    final boolean sessions;

    private Spec(
        ViewWindowing<KV<String, Event>> w,
        String windowStep,
        String aggregateStep,
        boolean sessions) {
      this.windowing = w;
      this.windowStep = windowStep;
      this.aggregateStep = aggregateStep;
      this.sessions = sessions;
    }

    static Spec fixed(Duration size, ViewParameters p, String windowStep, String aggregateStep) {
      return new Spec(
          ViewWindowing.<KV<String, Event>>fixed(size)
              .withAllowedLateness(p.allowedLateness())
              .withEarlyFirings(p.earlyFiringInterval()),
          windowStep,
          aggregateStep,
          false);
    }

    static Spec sessions(ViewParameters p, String windowStep, String aggregateStep) {
      return new Spec(
          ViewWindowing.<KV<String, Event>>sessions(p.sessionGap())
              .withAllowedLateness(p.allowedLateness())
              .withEarlyFirings(p.earlyFiringInterval()),
          windowStep,
          aggregateStep,
          true);
    }
  }

  private final ViewDefinition view;
  private final Spec spec;
  private final SerializableFunction<Event, Boolean> select;
  private final SerializableFunction<Event, String> keyFn;
  private final Combine.CombineFn<Event, ?, S> combineFn;
  private final Coder<S> statsCoder;
  private final RowFormat<S> format;

  ViewTransform(
      ViewDefinition view,
      Spec spec,
      SerializableFunction<Event, Boolean> select,
      SerializableFunction<Event, String> keyFn,
      Combine.CombineFn<Event, ?, S> combineFn,
      Coder<S> statsCoder,
      RowFormat<S> format) {
    this.view = view;
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

  /**
   * A view of a team's own ({@link ViewSpec}), computed by the same machinery as the reference
   * views: which de-duplicated, on-time events it takes, its key, its windows (fixed windows for a
   * {@link ViewDefinition.Kind#KEYED} view, sessions with the run's session gap for a {@link
   * ViewDefinition.Kind#SESSION} view; lateness and early firings are the run's parameters) and its
   * aggregation, a mergeable {@code CombineFn} whose result a {@link RowFormat} writes as a row.
   *
   * <pre>{@code
   * ViewTransform.of(PURCHASES_PER_USER_HOURLY, parameters)
   *     .selecting(Event::isPurchase)
   *     .keyedBy(Event::userId)
   *     .fixedWindows(Duration.standardHours(1))
   *     .aggregating(new ItemStats.Fn(), ItemStats.StatsCoder.of(), MyViews::row);
   * }</pre>
   */
  public static Builder of(ViewDefinition view, ViewParameters parameters) {
    return new Builder(view, parameters);
  }

  /** See {@link ViewTransform#of}. */
  public static final class Builder {
    private final ViewDefinition view;
    private final ViewParameters parameters;
    private SerializableFunction<Event, Boolean> select = e -> true;
    private SerializableFunction<Event, String> keyFn;
    private Spec spec;

    private Builder(ViewDefinition view, ViewParameters parameters) {
      this.view = java.util.Objects.requireNonNull(view, "view");
      this.parameters = java.util.Objects.requireNonNull(parameters, "parameters");
    }

    /** Only the events for which {@code select} is true (default: all). */
    public Builder selecting(SerializableFunction<Event, Boolean> select) {
      this.select = java.util.Objects.requireNonNull(select, "select");
      return this;
    }

    /** The view's key of an event (never null). */
    public Builder keyedBy(SerializableFunction<Event, String> keyFn) {
      this.keyFn = java.util.Objects.requireNonNull(keyFn, "keyFn");
      return this;
    }

    /** Fixed event-time windows of {@code size}, aligned to the epoch. */
    public Builder fixedWindows(Duration size) {
      if (!size.isLongerThan(Duration.ZERO)) {
        throw new IllegalArgumentException(view.name() + ": window size must be positive");
      }
      this.spec = Spec.fixed(size, parameters, "Window", "Aggregate");
      return this;
    }

    /** Session windows per key, with the run's session gap. */
    public Builder sessions() {
      this.spec = Spec.sessions(parameters, "Window", "Aggregate");
      return this;
    }

    /** The view, aggregating each key and window with {@code fn}, formatted by {@code format}. */
    public <S> ViewTransform<S> aggregating(
        Combine.CombineFn<Event, ?, S> fn, Coder<S> resultCoder, RowFormat<S> format) {
      if (keyFn == null || spec == null) {
        throw new IllegalStateException(
            view.name() + ": say keyedBy(...) and fixedWindows(...) or sessions() first");
      }
      boolean sessionView = view.kind() == ViewDefinition.Kind.SESSION;
      if (sessionView != spec.sessions) {
        throw new IllegalArgumentException(
            view.name()
                + (sessionView
                    ? " is a session view (ViewDefinition.sessions): use sessions()"
                    : " is a keyed view (ViewDefinition.keyed): use fixedWindows(...)"));
      }
      return new ViewTransform<>(
          view,
          spec,
          select,
          keyFn,
          java.util.Objects.requireNonNull(fn, "fn"),
          java.util.Objects.requireNonNull(resultCoder, "resultCoder"),
          java.util.Objects.requireNonNull(format, "format"));
    }
  }

  @Override
  public PCollection<Row> expand(PCollection<Event> events) {
    PCollection<KV<String, Event>> windowed =
        events
            .apply("Select", Filter.by(select))
            .apply("KeyBy", ParDo.of(new KeyFn(keyFn)))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), EventCoder.of()))
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
        .apply("ToRows", ParDo.of(new FormatFn<>(format)))
        .setCoder(SchemaCoder.of(view.schema()));
  }

  /** What {@link BoundedViews} needs to fold this view's events in its shared pass. */
  FoldSpec<?> foldSpec() {
    return foldSpec(combineFn);
  }

  private <A> FoldSpec<A> foldSpec(Combine.CombineFn<Event, A, S> fn) {
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
      Combine.CombineFn<Event, A, S> fn,
      PCollection<KV<KV<String, Long>, CombineSessions.Partial<Object>>> partials) {
    PCollection<KV<KV<String, Long>, CombineSessions.Partial<A>>> typed = (PCollection) partials;
    return CombineSessions.mergeBounded(typed, fn, statsCoder, spec.windowing.strategy(true))
        .apply("ToRows", ParDo.of(new FormatFn<>(format)))
        .setCoder(SchemaCoder.of(view.schema()));
  }

  Coder<?> accumulatorCoder(CoderRegistry registry) {
    try {
      return combineFn.getAccumulatorCoder(registry, EventCoder.of());
    } catch (CannotProvideCoderException e) {
      throw new IllegalStateException("no coder for the accumulator of " + combineFn, e);
    }
  }

  /** A view's selection, key, windows and aggregation, for folding its events in a bundle. */
  static final class FoldSpec<A> implements Serializable {
    final SerializableFunction<Event, Boolean> select;
    final SerializableFunction<Event, String> keyFn;
    final WindowFn<Object, ?> windowFn;
    final Combine.CombineFn<Event, A, ?> fn;
    final boolean sessions;

    FoldSpec(
        SerializableFunction<Event, Boolean> select,
        SerializableFunction<Event, String> keyFn,
        WindowFn<Object, ?> windowFn,
        Combine.CombineFn<Event, A, ?> fn,
        boolean sessions) {
      this.select = select;
      this.keyFn = keyFn;
      this.windowFn = windowFn;
      this.fn = fn;
      this.sessions = sessions;
    }
  }

  private static <A, S> CombineSessions<A, S> sessions(
      Combine.CombineFn<Event, A, S> fn, ViewWindowing<?> windowing) {
    return CombineSessions.of(fn, windowing.allowedLateness(), windowing.earlyFiringInterval());
  }

  private static <A, S> PreAggregatedCombine<A, S> preAggregated(
      Combine.CombineFn<Event, A, S> fn, boolean sessions) {
    return PreAggregatedCombine.of(fn, sessions);
  }

  static final class KeyFn extends DoFn<Event, KV<String, Event>> {
    private final SerializableFunction<Event, String> keyFn;

    KeyFn(SerializableFunction<Event, String> keyFn) {
      this.keyFn = keyFn;
    }

    @ProcessElement
    public void process(@Element Event e, OutputReceiver<KV<String, Event>> out) {
      out.output(KV.of(keyFn.apply(e), e));
    }
  }

  static final class FormatFn<S> extends DoFn<KV<String, S>, Row> {
    private final RowFormat<S> format;

    FormatFn(RowFormat<S> format) {
      this.format = format;
    }

    @ProcessElement
    public void process(@Element KV<String, S> kv, BoundedWindow window, OutputReceiver<Row> out) {
      out.output(format.format(kv.getKey(), kv.getValue(), window));
    }
  }
}
