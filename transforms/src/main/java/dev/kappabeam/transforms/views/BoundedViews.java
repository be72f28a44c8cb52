package dev.kappabeam.transforms.views;

import dev.kappabeam.transforms.time.Timestamps;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.transforms.windowing.IntervalWindow;
import org.apache.beam.sdk.transforms.windowing.PartitioningWindowFn;
import org.apache.beam.sdk.transforms.windowing.Sessions;
import org.apache.beam.sdk.transforms.windowing.SlidingWindows;
import org.apache.beam.sdk.transforms.windowing.WindowFn;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * Several views of bounded input from one pass over the events: one step selects, keys and windows
 * each event for every view and folds it into that view's partials of the bundle (as {@link
 * PreAggregatedCombine} and {@link CombineSessions} do per view); then per view the partials are
 * grouped by key (and, for fixed windows, by window) and merged, one row per key and window, as its
 * only pane. The answer is each view's own {@link ViewTransform} on the same input.
 *
 * <p>Why one pass: every view of its own reads every event, and a batch runner hands each of them
 * its own copy (Beam's Flink batch runner serialises every event once per consuming view); here
 * only the partials, a fraction of the events, leave the shared step.
 *
 * <pre>{@code
 * PCollectionTuple rows = events.apply("Views",
 *     BoundedViews.of(List.of(sessionsTag, minuteTag), List.of("UserSessions", "ActivityPerMinute"),
 *         List.of(Views.userSessions(p), Views.activityPerMinute(p))));
 * }</pre>
 */
public final class BoundedViews<E> extends PTransform<PCollection<E>, PCollectionTuple> {
  private final List<TupleTag<Row>> tags;
  private final List<String> names;
  private final List<ViewTransform<E, ?>> views;

  private BoundedViews(
      List<TupleTag<Row>> tags, List<String> names, List<ViewTransform<E, ?>> views) {
    this.tags = List.copyOf(tags);
    this.names = List.copyOf(names);
    this.views = List.copyOf(views);
  }

  /** The views, each with the tag of its rows and the name of its steps. */
  public static <E> BoundedViews<E> of(
      List<TupleTag<Row>> tags, List<String> names, List<ViewTransform<E, ?>> views) {
    if (tags.size() != views.size() || names.size() != views.size() || views.isEmpty()) {
      throw new IllegalArgumentException("one tag and one name per view, at least one view");
    }
    return new BoundedViews<>(tags, names, views);
  }

  /** A view's partials: keyed by the view's key and a bucket (see {@link Folds}). */
  public interface PartialOutput {
    /** Emits a partial of view {@code view} (index into the views) with its timestamp. */
    void emit(int view, KV<KV<String, Long>, CombineSessions.Partial<Object>> partial, Instant ts);
  }

  /** The tags of the views' partials, one per view in order, for a step that folds them. */
  public List<TupleTag<KV<KV<String, Long>, CombineSessions.Partial<Object>>>> partialTags() {
    List<TupleTag<KV<KV<String, Long>, CombineSessions.Partial<Object>>>> partialTags =
        new ArrayList<>();
    for (String name : names) {
      partialTags.add(new TupleTag<>("partials:" + name));
    }
    return partialTags;
  }

  /** The fold of every view, for a step that folds events and does more in the same pass. */
  public Folds<E> folds() {
    List<ViewTransform.FoldSpec<E, ?>> specs = new ArrayList<>();
    for (ViewTransform<E, ?> view : views) {
      specs.add(view.foldSpec());
    }
    return new Folds<>(specs);
  }

  @Override
  public PCollectionTuple expand(PCollection<E> events) {
    if (events.isBounded() != PCollection.IsBounded.BOUNDED) {
      throw new IllegalArgumentException(
          "BoundedViews is for bounded input; apply each ViewTransform to unbounded input");
    }
    List<TupleTag<KV<KV<String, Long>, CombineSessions.Partial<Object>>>> partialTags =
        partialTags();
    TupleTagList others = TupleTagList.empty();
    for (TupleTag<?> t : partialTags.subList(1, partialTags.size())) {
      others = others.and(t);
    }
    PCollectionTuple partials =
        events.apply(
            "FoldViews",
            ParDo.of(new FoldViewsFn<>(folds(), partialTags))
                .withOutputTags(partialTags.get(0), others));
    return rowsFrom(partials);
  }

  /**
   * Each view's rows from its partials ({@code partials} holds them under {@link #partialTags()}):
   * grouped by key (and, for fixed windows, by window) and merged, one row per key and window.
   */
  public PCollectionTuple rowsFrom(PCollectionTuple partials) {
    List<TupleTag<KV<KV<String, Long>, CombineSessions.Partial<Object>>>> partialTags =
        partialTags();
    PCollectionTuple out = PCollectionTuple.empty(partials.getPipeline());
    for (int i = 0; i < views.size(); i++) {
      ViewTransform<E, ?> view = views.get(i);
      PCollection<KV<KV<String, Long>, CombineSessions.Partial<Object>>> viewPartials =
          partials
              .get(partialTags.get(i))
              .setCoder(groupingCoder(view, partials.getPipeline().getCoderRegistry()));
      out = out.and(tags.get(i), viewPartials.apply(names.get(i), view.fromBoundedPartials()));
    }
    return out;
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Coder<KV<KV<String, Long>, CombineSessions.Partial<Object>>> groupingCoder(
      ViewTransform<?, ?> view, org.apache.beam.sdk.coders.CoderRegistry registry) {
    Coder accumulator = view.accumulatorCoder(registry);
    return (Coder) CombineSessions.groupingCoder(accumulator);
  }

  /**
   * Per bundle, per view: its events folded per key and window. Partials leave in the global window
   * with their own window inside ({@link CombineSessions.Partial}), keyed by the view's key and a
   * bucket: the window start for fixed windows (partials of different windows never merge), 0 for
   * sessions (a key's sessions may merge). Serializable; {@link #start} once per bundle.
   */
  public static final class Folds<E> implements java.io.Serializable {
    private final List<ViewTransform.FoldSpec<E, ?>> specs;
    private transient List<PreAggregatedCombine.Fold<E, Object>> folds;

    Folds(List<ViewTransform.FoldSpec<E, ?>> specs) {
      this.specs = new ArrayList<>(specs);
    }

    /** Starts a bundle: empty folds. */
    @SuppressWarnings("unchecked")
    public void start() {
      folds = new ArrayList<>();
      for (ViewTransform.FoldSpec<E, ?> spec : specs) {
        folds.add(
            new PreAggregatedCombine.Fold<>(
                (org.apache.beam.sdk.transforms.Combine.CombineFn<E, Object, ?>) spec.fn,
                spec.sessions));
      }
    }

    /** Folds an event into every view that selects it; emits partials of a fold that is full. */
    public void add(E event, Instant timestamp, PartialOutput out) {
      for (int i = 0; i < specs.size(); i++) {
        ViewTransform.FoldSpec<E, ?> spec = specs.get(i);
        if (!spec.select.apply(event)) {
          continue;
        }
        String key = spec.keyFn.apply(event);
        PreAggregatedCombine.Fold<E, Object> fold = folds.get(i);
        if (spec.windowFn instanceof SlidingWindows) {
          for (BoundedWindow window : assignAll(spec.windowFn, key, event, timestamp)) {
            if (fold.add(key, window, timestamp.getMillis(), event)) {
              drain(i, out);
            }
          }
        } else if (fold.add(
            key, assign(spec.windowFn, key, event, timestamp), timestamp.getMillis(), event)) {
          drain(i, out);
        }
      }
    }

    /** Emits every partial held (at the end of a bundle). */
    public void finish(PartialOutput out) {
      for (int i = 0; i < specs.size(); i++) {
        drain(i, out);
      }
      folds = null;
    }

    private void drain(int view, PartialOutput out) {
      boolean sessions = specs.get(view).sessions;
      folds
          .get(view)
          .drain(
              (k, acc, w, earliest) ->
                  out.emit(view, partial(k, acc, w, sessions), new Instant(earliest)));
    }

    private static KV<KV<String, Long>, CombineSessions.Partial<Object>> partial(
        String key, Object accumulator, BoundedWindow window, boolean sessions) {
      if (window instanceof GlobalWindow) {
        return KV.of(KV.of(key, 0L), CombineSessions.Partial.global(accumulator));
      }
      IntervalWindow w = (IntervalWindow) window;
      long start = w.start().getMillis();
      return KV.of(
          KV.of(key, sessions ? 0L : start),
          new CombineSessions.Partial<>(start, w.end().getMillis(), accumulator));
    }

    /**
     * The event's one window: fixed and session windows computed as their {@code assignWindows}
     * does (without its context and list per event), the global window as itself, any other window
     * fn through {@code assignWindows}.
     */
    @SuppressWarnings("rawtypes")
    private static BoundedWindow assign(WindowFn fn, String key, Object event, Instant timestamp) {
      if (fn instanceof PartitioningWindowFn) {
        return ((PartitioningWindowFn<?, ?>) fn).assignWindow(timestamp);
      }
      if (fn instanceof Sessions) {
        return new IntervalWindow(timestamp, ((Sessions) fn).getGapDuration());
      }
      if (fn instanceof GlobalWindows) {
        return GlobalWindow.INSTANCE;
      }
      Collection<BoundedWindow> windows = assignAll(fn, key, event, timestamp);
      if (windows.size() != 1) {
        throw new IllegalStateException(
            "a view's windows must put each event in one window, got " + windows);
      }
      return windows.iterator().next();
    }

    /** Every window of the event, through the window fn's {@code assignWindows}. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Collection<BoundedWindow> assignAll(
        WindowFn fn, String key, Object event, Instant timestamp) {
      Object element = KV.of(key, event);
      WindowFn.AssignContext context =
          fn.new AssignContext() {
            @Override
            public Object element() {
              return element;
            }

            @Override
            public Instant timestamp() {
              return timestamp;
            }

            @Override
            public BoundedWindow window() {
              return GlobalWindow.INSTANCE;
            }
          };
      try {
        return fn.assignWindows(context);
      } catch (Exception e) {
        throw new IllegalStateException("cannot assign the window of " + element, e);
      }
    }
  }

  /** {@link Folds} as a step of its own: events in, each view's partials out. */
  static final class FoldViewsFn<E>
      extends DoFn<E, KV<KV<String, Long>, CombineSessions.Partial<Object>>> {
    private final Folds<E> folds;
    private final List<TupleTag<KV<KV<String, Long>, CombineSessions.Partial<Object>>>> tags;

    FoldViewsFn(
        Folds<E> folds,
        List<TupleTag<KV<KV<String, Long>, CombineSessions.Partial<Object>>>> tags) {
      this.folds = folds;
      this.tags = new ArrayList<>(tags);
    }

    @StartBundle
    public void startBundle() {
      folds.start();
    }

    @ProcessElement
    public void process(@Element E event, @Timestamp Instant timestamp, MultiOutputReceiver out) {
      folds.add(
          event, timestamp, (view, p, ts) -> out.get(tags.get(view)).outputWithTimestamp(p, ts));
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext out) {
      folds.finish((view, p, ts) -> out.output(tags.get(view), p, ts, GlobalWindow.INSTANCE));
    }

    /** Partials carry their earliest event time, which may be behind the current element's. */
    @Override
    @SuppressWarnings("deprecation")
    public Duration getAllowedTimestampSkew() {
      return Timestamps.ANY_SKEW;
    }
  }
}
