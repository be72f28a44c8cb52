package dev.kappabeam.transforms.views;

import dev.kappabeam.transforms.time.Timestamps;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import org.apache.beam.sdk.coders.BooleanCoder;
import org.apache.beam.sdk.coders.CannotProvideCoderException;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.CustomCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.ListCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.state.TimeDomain;
import org.apache.beam.sdk.state.Timer;
import org.apache.beam.sdk.state.TimerSpec;
import org.apache.beam.sdk.state.TimerSpecs;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.transforms.windowing.DefaultTrigger;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.transforms.windowing.IntervalWindow;
import org.apache.beam.sdk.transforms.windowing.PaneInfo;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.WindowingStrategy;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * {@code Combine.perKey(fn)} over session windows of an unbounded stream, with the sessions of a
 * key kept in one state cell and merged in place, instead of Beam's generic merging-window
 * machinery (per window: active-window-set, accumulator, trigger, pane and hold state, and timers;
 * most of a streaming session view's cost).
 *
 * <p>The panes are those of {@link dev.kappabeam.transforms.time.ViewWindowing}'s trigger: an early
 * pane {@code earlyFiringInterval} of processing time after the first element since the last pane
 * (sessions of one key share one timer), the on-time pane when the watermark passes the session's
 * end, one late pane per bundle that adds to a session the watermark has passed, and a final pane
 * (marked last) when the session expires, {@code allowedLateness} after its end; panes accumulate.
 * Sessions merge where their windows overlap, as {@code Sessions} merges them, also when a late
 * element bridges two sessions already fired. Output: each pane in its session's {@link
 * IntervalWindow}, timestamped at the window's end, in a collection with the input's windowing.
 *
 * <p>Bounded input: each bundle's events folded into session partials, then all partials of a key
 * grouped and merged at once, each session output once ({@link PaneInfo#ON_TIME_AND_ONLY_FIRING}).
 * Beam's own batch combine cannot take the partials: the Flink runner's (2.62, {@code
 * SortingFlinkCombineRunner}) sorts windows by their end and merges neighbours only, right only
 * while every window has the gap's length.
 *
 * <p>Differences from Beam's combine on unbounded input, none of them visible in a sink that
 * applies the rows by {@link ViewDefinition#supersedes}: a session first seen after the watermark
 * passed its end gets its first pane as {@code ON_TIME}, not {@code LATE} (a {@code DoFn} cannot
 * read the watermark); pane indexes count on across a merge; and an element whose session expired
 * is counted into a session that is then closed at once, where Beam would drop it ({@link
 * dev.kappabeam.transforms.time.SplitLateEvents} sends such elements to the late output first).
 *
 * <pre>{@code
 * windowed.apply("SummarizeSessions",
 *     CombineSessions.of(new SessionStats.Fn(), Duration.standardHours(1), Duration.standardSeconds(1)));
 * }</pre>
 */
public final class CombineSessions<E, A, S>
    extends PTransform<PCollection<KV<String, E>>, PCollection<KV<String, S>>> {
  private final Combine.CombineFn<E, A, S> fn;
  private final Duration allowedLateness;
  private final @Nullable Duration earlyFiringInterval;

  private CombineSessions(
      Combine.CombineFn<E, A, S> fn,
      Duration allowedLateness,
      @Nullable Duration earlyFiringInterval) {
    this.fn = fn;
    this.allowedLateness = allowedLateness;
    this.earlyFiringInterval = earlyFiringInterval;
  }

  /**
   * @param allowedLateness how long after a session's end late elements still update it
   * @param earlyFiringInterval processing time between early panes; null for none
   */
  public static <E, A, S> CombineSessions<E, A, S> of(
      Combine.CombineFn<E, A, S> fn,
      Duration allowedLateness,
      @Nullable Duration earlyFiringInterval) {
    Objects.requireNonNull(fn, "fn");
    if (allowedLateness.getMillis() < 0) {
      throw new IllegalArgumentException("allowed lateness must be >= 0, got " + allowedLateness);
    }
    return new CombineSessions<>(fn, allowedLateness, earlyFiringInterval);
  }

  @Override
  public PCollection<KV<String, S>> expand(PCollection<KV<String, E>> input) {
    CoderRegistry registry = input.getPipeline().getCoderRegistry();
    Coder<A> accumulatorCoder;
    Coder<S> outputCoder;
    try {
      accumulatorCoder = fn.getAccumulatorCoder(registry, PreAggregatedCombine.eventCoder(input));
      outputCoder = fn.getDefaultOutputCoder(registry, PreAggregatedCombine.eventCoder(input));
    } catch (CannotProvideCoderException e) {
      throw new IllegalStateException("no coder for the accumulator or output of " + fn, e);
    }
    WindowingStrategy<?, ?> sessions = input.getWindowingStrategy();
    PCollection<KV<String, Partial<A>>> partials =
        input
            .apply("PreAggregate", ParDo.of(new PreAggregatedCombine.PreAggregateFn<>(fn, true)))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), accumulatorCoder))
            .apply("CarryWindow", ParDo.of(new CarryWindowFn<A>()))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), Partial.coder(accumulatorCoder)));
    if (input.isBounded() == PCollection.IsBounded.BOUNDED) {
      // One firing per key once all input is in: the partials grouped per key (the sessions'
      // trigger and lateness do not apply to the regrouping in the global window).
      PCollection<KV<KV<String, Long>, Partial<A>>> keyed =
          partials
              .apply(
                  "IntoGlobalWindow",
                  Window.<KV<String, Partial<A>>>into(new GlobalWindows())
                      .triggering(DefaultTrigger.of())
                      .withAllowedLateness(Duration.ZERO)
                      .discardingFiredPanes())
              .apply("KeyForMerge", ParDo.of(new KeyForMergeFn<A>()))
              .setCoder(groupingCoder(accumulatorCoder));
      return mergeBounded(keyed, fn, outputCoder, sessions);
    }
    PCollection<KV<String, S>> panes =
        partials
            .apply("IntoGlobalWindow", Window.into(new GlobalWindows()))
            .apply(
                "MergeAndFire",
                ParDo.of(
                    new SessionPanesFn<>(
                        fn, accumulatorCoder, allowedLateness, earlyFiringInterval)))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), outputCoder));
    // The panes are in their sessions' IntervalWindows, as the input's elements were, and carry
    // the continuation of the input's trigger, as a GroupByKey's output does.
    return panes.setWindowingStrategyInternal(
        sessions.withTrigger(sessions.getTrigger().getContinuationTrigger()));
  }

  /**
   * Bounded input, all partials in the global window: groups them by key and merges each key's
   * partials where their windows overlap, one output per resulting window, in that window, as its
   * only pane, in a collection with {@code strategy} (the view's windowing). Keys are (key,
   * bucket): partials of different buckets never merge (fixed windows may use the window start as
   * bucket; sessions must use one bucket per key).
   */
  static <E, A, S> PCollection<KV<String, S>> mergeBounded(
      PCollection<KV<KV<String, Long>, Partial<A>>> partials,
      Combine.CombineFn<E, A, S> fn,
      Coder<S> outputCoder,
      WindowingStrategy<?, ?> strategy) {
    return partials
        .apply("GroupPartials", GroupByKey.create())
        .apply(
            "MergePartials",
            ParDo.of(new MergePartialsFn<>(fn, strategy.getWindowFn() instanceof GlobalWindows)))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), outputCoder))
        .setWindowingStrategyInternal(
            strategy.withTrigger(strategy.getTrigger().getContinuationTrigger()));
  }

  static <A> Coder<KV<KV<String, Long>, Partial<A>>> groupingCoder(Coder<A> accumulatorCoder) {
    return KvCoder.of(
        KvCoder.of(StringUtf8Coder.of(), VarLongCoder.of()), Partial.coder(accumulatorCoder));
  }

  /** Sessions of a key all merge together: one bucket per key. */
  static final class KeyForMergeFn<A>
      extends DoFn<KV<String, Partial<A>>, KV<KV<String, Long>, Partial<A>>> {
    @ProcessElement
    public void process(
        @Element KV<String, Partial<A>> kv, OutputReceiver<KV<KV<String, Long>, Partial<A>>> out) {
      out.output(KV.of(KV.of(kv.getKey(), 0L), kv.getValue()));
    }
  }

  /** A partial of one window (a session or a fixed window): its bounds and accumulator. */
  public static final class Partial<A> {
    final long start;
    final long end;
    final A accumulator;

    Partial(long start, long end, A accumulator) {
      this.start = start;
      this.end = end;
      this.accumulator = accumulator;
    }

    /** A partial of the global window (bounds that span every event time). */
    static <A> Partial<A> global(A accumulator) {
      return new Partial<>(
          BoundedWindow.TIMESTAMP_MIN_VALUE.getMillis(),
          GlobalWindow.INSTANCE.maxTimestamp().getMillis() + 1,
          accumulator);
    }

    static <A> Coder<Partial<A>> coder(Coder<A> accumulatorCoder) {
      return new CustomCoder<>() {
        @Override
        public void encode(Partial<A> p, OutputStream out) throws IOException {
          VarLongCoder.of().encode(p.start, out);
          VarLongCoder.of().encode(p.end, out);
          accumulatorCoder.encode(p.accumulator, out);
        }

        @Override
        public Partial<A> decode(InputStream in) throws IOException {
          long start = VarLongCoder.of().decode(in);
          long end = VarLongCoder.of().decode(in);
          return new Partial<>(start, end, accumulatorCoder.decode(in));
        }
      };
    }
  }

  /** Moves the session window into the element, before the elements leave for the global window. */
  static final class CarryWindowFn<A> extends DoFn<KV<String, A>, KV<String, Partial<A>>> {
    @ProcessElement
    public void process(
        @Element KV<String, A> kv,
        BoundedWindow window,
        OutputReceiver<KV<String, Partial<A>>> out) {
      IntervalWindow w = (IntervalWindow) window;
      out.output(
          KV.of(
              kv.getKey(),
              new Partial<>(w.start().getMillis(), w.end().getMillis(), kv.getValue())));
    }
  }

  /**
   * Bounded input: all partials of a key (and bucket) at once, merged where their windows overlap
   * (sorted by start, as {@code Sessions} merges; equal fixed windows overlap, neighbouring ones do
   * not), each resulting window output once, as its only pane.
   */
  static final class MergePartialsFn<E, A, S>
      extends DoFn<KV<KV<String, Long>, Iterable<Partial<A>>>, KV<String, S>> {
    private final Combine.CombineFn<E, A, S> fn;
    private final boolean global;

    /**
     * @param global the view's window is the global window: the merged result goes there, not into
     *     an interval window
     */
    MergePartialsFn(Combine.CombineFn<E, A, S> fn, boolean global) {
      this.fn = fn;
      this.global = global;
    }

    @ProcessElement
    public void process(
        @Element KV<KV<String, Long>, Iterable<Partial<A>>> element,
        OutputReceiver<KV<String, S>> out) {
      String key = element.getKey().getKey();
      List<Partial<A>> partials = new ArrayList<>();
      element.getValue().forEach(partials::add);
      partials.sort((a, b) -> Long.compare(a.start, b.start));
      List<A> run = new ArrayList<>();
      long start = 0;
      long end = Long.MIN_VALUE;
      for (Partial<A> p : partials) {
        if (!run.isEmpty() && p.start >= end) {
          emit(key, start, end, run, out);
          run.clear();
        }
        if (run.isEmpty()) {
          start = p.start;
          end = p.end;
        }
        end = Math.max(end, p.end);
        run.add(p.accumulator);
      }
      if (!run.isEmpty()) {
        emit(key, start, end, run, out);
      }
    }

    private void emit(
        String key, long start, long end, List<A> run, OutputReceiver<KV<String, S>> out) {
      A merged = run.size() == 1 ? run.get(0) : fn.mergeAccumulators(run);
      BoundedWindow window =
          global ? GlobalWindow.INSTANCE : new IntervalWindow(new Instant(start), new Instant(end));
      out.outputWindowedValue(
          KV.of(key, fn.extractOutput(merged)),
          window.maxTimestamp(),
          List.of(window),
          PaneInfo.ON_TIME_AND_ONLY_FIRING);
    }

    /** Sessions carry their own end as timestamp, behind the grouping's. */
    @Override
    @SuppressWarnings("deprecation")
    public Duration getAllowedTimestampSkew() {
      return Timestamps.ANY_SKEW;
    }
  }

  /** One open session of a key, as kept in state. */
  static final class Open<A> {
    long start;
    long end;
    A accumulator;

    /** Panes emitted for this session so far. */
    long panes;

    /** The on-time pane has fired: the watermark passed the end; later additions fire late. */
    boolean pastEnd;

    /** Elements were added since the last pane. */
    boolean dirty;

    Open(long start, long end, A accumulator, long panes, boolean pastEnd, boolean dirty) {
      this.start = start;
      this.end = end;
      this.accumulator = accumulator;
      this.panes = panes;
      this.pastEnd = pastEnd;
      this.dirty = dirty;
    }

    long maxTimestamp() {
      return end - 1;
    }

    IntervalWindow window() {
      return new IntervalWindow(new Instant(start), new Instant(end));
    }

    static <A> Coder<Open<A>> coder(Coder<A> accumulatorCoder) {
      return new CustomCoder<>() {
        @Override
        public void encode(Open<A> o, OutputStream out) throws IOException {
          VarLongCoder.of().encode(o.start, out);
          VarLongCoder.of().encode(o.end, out);
          accumulatorCoder.encode(o.accumulator, out);
          VarLongCoder.of().encode(o.panes, out);
          BooleanCoder.of().encode(o.pastEnd, out);
          BooleanCoder.of().encode(o.dirty, out);
        }

        @Override
        public Open<A> decode(InputStream in) throws IOException {
          long start = VarLongCoder.of().decode(in);
          long end = VarLongCoder.of().decode(in);
          A acc = accumulatorCoder.decode(in);
          long panes = VarLongCoder.of().decode(in);
          boolean pastEnd = BooleanCoder.of().decode(in);
          boolean dirty = BooleanCoder.of().decode(in);
          return new Open<>(start, end, acc, panes, pastEnd, dirty);
        }
      };
    }
  }

  /**
   * Per key: the open sessions in one value, an event-time timer at the next session end or expiry,
   * and a processing-time timer for the next early pane.
   */
  static final class SessionPanesFn<E, A, S> extends DoFn<KV<String, Partial<A>>, KV<String, S>> {
    private final Combine.CombineFn<E, A, S> fn;
    private final long lateness;
    private final @Nullable Duration earlyFiringInterval;

    @StateId("sessions")
    private final StateSpec<ValueState<List<Open<A>>>> sessionsSpec;

    @StateId("earlyTimerSet")
    private final StateSpec<ValueState<Integer>> earlyTimerSetSpec =
        StateSpecs.value(VarIntCoder.of());

    /** When the watermark timer is set for (it is moved earlier at once, later only when fired). */
    @StateId("watermarkAt")
    private final StateSpec<ValueState<Long>> watermarkAtSpec = StateSpecs.value(VarLongCoder.of());

    @TimerId("watermark")
    private final TimerSpec watermarkSpec = TimerSpecs.timer(TimeDomain.EVENT_TIME);

    @TimerId("early")
    private final TimerSpec earlySpec = TimerSpecs.timer(TimeDomain.PROCESSING_TIME);

    SessionPanesFn(
        Combine.CombineFn<E, A, S> fn,
        Coder<A> accumulatorCoder,
        Duration allowedLateness,
        @Nullable Duration earlyFiringInterval) {
      this.fn = fn;
      this.lateness = allowedLateness.getMillis();
      this.earlyFiringInterval = earlyFiringInterval;
      this.sessionsSpec = StateSpecs.value(ListCoder.of(Open.coder(accumulatorCoder)));
    }

    @ProcessElement
    public void process(
        @Element KV<String, Partial<A>> element,
        @StateId("sessions") ValueState<List<Open<A>>> state,
        @StateId("earlyTimerSet") ValueState<Integer> earlyTimerSet,
        @StateId("watermarkAt") ValueState<Long> watermarkAt,
        @TimerId("watermark") Timer watermark,
        @TimerId("early") Timer early,
        OutputReceiver<KV<String, S>> out) {
      Partial<A> p = element.getValue();
      List<Open<A>> sessions = read(state);
      Open<A> merged = new Open<>(p.start, p.end, p.accumulator, 0, false, true);
      // Sessions already past their end that the merged session cannot outgrow: the watermark is
      // past its end too, so it fires late at once (else it waits for its own on-time pane).
      long firedEnd = Long.MIN_VALUE;
      boolean allPastEnd = true;
      boolean mergedAny = false;
      boolean grew = true;
      while (grew) {
        grew = false;
        for (int i = 0; i < sessions.size(); i++) {
          Open<A> s = sessions.get(i);
          if (s.start < merged.end && merged.start < s.end) {
            merged.start = Math.min(merged.start, s.start);
            merged.end = Math.max(merged.end, s.end);
            merged.accumulator = fn.mergeAccumulators(List.of(s.accumulator, merged.accumulator));
            merged.panes = Math.max(merged.panes, s.panes); // pane indexes count on
            allPastEnd &= s.pastEnd;
            if (s.pastEnd) {
              firedEnd = Math.max(firedEnd, s.end);
            }
            mergedAny = true;
            sessions.remove(i--);
            grew = true;
          }
        }
      }
      if (mergedAny && allPastEnd && merged.end <= firedEnd) {
        merged.pastEnd = true;
        emit(element.getKey(), merged, PaneInfo.Timing.LATE, false, out::outputWindowedValue);
      }
      sessions.add(merged);
      state.write(sessions);
      // A session usually grows later with each event: the timer stays at the earlier time and,
      // when it fires there, finds nothing due and moves on (one timer per gap, not per event).
      long next = nextWatermarkTime(sessions);
      Long at = watermarkAt.read();
      if (at == null || next < at) {
        watermark.set(new Instant(next));
        watermarkAt.write(next);
      }
      if (!merged.pastEnd && earlyFiringInterval != null && earlyTimerSet.read() == null) {
        early.offset(earlyFiringInterval).setRelative();
        earlyTimerSet.write(1);
      }
    }

    @OnTimer("early")
    public void onEarly(
        @Key String key,
        @StateId("sessions") ValueState<List<Open<A>>> state,
        @StateId("earlyTimerSet") ValueState<Integer> earlyTimerSet,
        OutputReceiver<KV<String, S>> out) {
      earlyTimerSet.clear();
      List<Open<A>> sessions = read(state);
      boolean changed = false;
      for (Open<A> s : sessions) {
        if (s.dirty && !s.pastEnd) {
          emit(key, s, PaneInfo.Timing.EARLY, false, out::outputWindowedValue);
          changed = true;
        }
      }
      if (changed) {
        state.write(sessions);
      }
    }

    @OnTimer("watermark")
    public void onWatermark(
        @Key String key,
        @Timestamp Instant firedAt,
        @StateId("sessions") ValueState<List<Open<A>>> state,
        @StateId("earlyTimerSet") ValueState<Integer> earlyTimerSet,
        @StateId("watermarkAt") ValueState<Long> watermarkAt,
        @TimerId("watermark") Timer watermark,
        @TimerId("early") Timer early,
        OutputReceiver<KV<String, S>> out) {
      long now = firedAt.getMillis();
      List<Open<A>> sessions = read(state);
      sessions.sort((a, b) -> Long.compare(a.end, b.end));
      List<Open<A>> open = new ArrayList<>(sessions.size());
      for (Open<A> s : sessions) {
        if (!s.pastEnd && s.maxTimestamp() <= now) {
          s.pastEnd = true;
          boolean expires = s.maxTimestamp() + lateness <= now;
          emit(key, s, PaneInfo.Timing.ON_TIME, lateness == 0, out::outputWindowedValue);
          if (lateness == 0) {
            continue;
          }
          if (expires) {
            emit(key, s, PaneInfo.Timing.LATE, true, out::outputWindowedValue);
            continue;
          }
        } else if (s.pastEnd && s.maxTimestamp() + lateness <= now) {
          emit(key, s, PaneInfo.Timing.LATE, true, out::outputWindowedValue);
          continue;
        }
        open.add(s);
      }
      if (open.isEmpty()) {
        state.clear();
        earlyTimerSet.clear();
        early.clear();
        watermark.clear();
        watermarkAt.clear();
        return;
      }
      state.write(open);
      long next = nextWatermarkTime(open);
      watermark.set(new Instant(next));
      watermarkAt.write(next);
    }

    private interface Output<T> {
      void output(
          T value, Instant timestamp, Collection<? extends BoundedWindow> windows, PaneInfo pane);
    }

    private void emit(
        String key, Open<A> s, PaneInfo.Timing timing, boolean last, Output<KV<String, S>> out) {
      PaneInfo pane =
          PaneInfo.createPane(
              s.panes == 0, last, timing, s.panes, timing == PaneInfo.Timing.EARLY ? -1 : 0);
      out.output(
          KV.of(key, fn.extractOutput(s.accumulator)),
          new Instant(s.maxTimestamp()),
          List.of(s.window()),
          pane);
      s.panes++;
      s.dirty = false;
    }

    /** The next session end, or expiry of a session past its end. */
    private long nextWatermarkTime(List<Open<A>> sessions) {
      long next = Long.MAX_VALUE;
      for (Open<A> s : sessions) {
        next = Math.min(next, s.pastEnd ? s.maxTimestamp() + lateness : s.maxTimestamp());
      }
      return next;
    }

    /**
     * The key's open sessions as copies: they are changed in place and written back, and the
     * objects in the state may still be read by a checkpoint being written (Flink's heap state with
     * {@code --fasterCopy} hands out the stored objects themselves).
     */
    private static <A> List<Open<A>> read(ValueState<List<Open<A>>> state) {
      List<Open<A>> sessions = state.read();
      List<Open<A>> out = new ArrayList<>(sessions == null ? 2 : sessions.size() + 1);
      if (sessions != null) {
        for (Open<A> s : sessions) {
          out.add(new Open<>(s.start, s.end, s.accumulator, s.panes, s.pastEnd, s.dirty));
        }
      }
      return out;
    }

    /** Panes carry the session's end as timestamp, which may be behind the element's. */
    @Override
    @SuppressWarnings("deprecation")
    public Duration getAllowedTimestampSkew() {
      return Timestamps.ANY_SKEW;
    }
  }
}
