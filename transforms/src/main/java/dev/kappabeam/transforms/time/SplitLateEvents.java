package dev.kappabeam.transforms.time;

import dev.kappabeam.transforms.CounterNames;
import dev.kappabeam.transforms.LogicDefaults;
import dev.kappabeam.transforms.events.DeduplicateEvents;
import dev.kappabeam.transforms.events.Event;
import dev.kappabeam.transforms.events.EventFormat;
import dev.kappabeam.transforms.events.Events;
import dev.kappabeam.transforms.events.ReferenceFormat;
import dev.kappabeam.transforms.events.StreamDedup;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.Objects;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.state.MapState;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.state.TimeDomain;
import org.apache.beam.sdk.state.Timer;
import org.apache.beam.sdk.state.TimerMap;
import org.apache.beam.sdk.state.TimerSpec;
import org.apache.beam.sdk.state.TimerSpecs;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.join.RawUnionValue;
import org.apache.beam.sdk.transforms.join.UnionCoder;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TimestampedValue;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * Splits events into on-time and late: an event is late when its event time is more than the
 * allowed lateness behind the watermark. Late events leave through {@link #LATE} (counter {@code
 * late}) instead of being dropped silently by a window downstream.
 *
 * <p>Unbounded input, in the global window, before the views' windowing: the comparison runs on
 * {@code shards} keys (a hash of the event_id; default {@value #DEFAULT_SHARDS}), so it spreads
 * over the workers with the data. Bounded input: nothing is late; the input is returned as on time.
 *
 * <p>Why it is exact: a {@code DoFn} cannot read the watermark, and a window's {@code GroupByKey}
 * drops what is later than its allowed lateness. One key that sees no events (the clock) learns a
 * lower bound of the watermark from event-time timers and sends it to every shard as a tick. A
 * shard takes a tick's bound only once its own input watermark has passed it (a timer of its own),
 * so an event is never judged against a watermark that came after it, and it holds its output
 * watermark at the bound it took (the clock holds its own at the bound it announced). So every
 * event passed as on time has {@code ts + lateness >= bound >= downstream watermark}, and no window
 * with the same lateness drops it; every event sent to the late output was behind the watermark
 * before it. The bound trails the watermark by about a second while events flow, so an event
 * slightly later than the lateness may be accepted: it is then in the view, never in neither place.
 *
 * <pre>{@code
 * PCollectionTuple split = unique.apply("SplitLateEvents",
 *     SplitLateEvents.withAllowedLateness(Duration.standardHours(1)));
 * split.get(SplitLateEvents.ON_TIME).apply(views);
 * split.get(SplitLateEvents.LATE).apply(lateSink);
 * }</pre>
 */
public final class SplitLateEvents<E> extends PTransform<PCollection<E>, PCollectionTuple> {
  public static final Duration DEFAULT_LATENESS =
      LogicDefaults.duration(LogicDefaults.ALLOWED_LATENESS);

  /** The outputs for reference events ({@link #onTime()} and {@link #late()}: any format). */
  public static final TupleTag<Event> ON_TIME = new TupleTag<Event>("onTime") {};

  public static final TupleTag<Event> LATE = new TupleTag<Event>("late") {};

  /** The tag of the events on time, for events of any format. */
  public static <E> TupleTag<E> onTime() {
    return new TupleTag<>(ON_TIME.getId());
  }

  /** The tag of the events later than the allowed lateness, for events of any format. */
  public static <E> TupleTag<E> late() {
    return new TupleTag<>(LATE.getId());
  }

  /**
   * Keys of the comparison: enough for every worker of a large job to hold several (runners spread
   * keys by hash), few enough that a tick to every shard costs little next to the events.
   */
  public static final int DEFAULT_SHARDS = 128;

  /** Granularity of the watermark bound while events flow. */
  static final long STEP_MILLIS = 1_000L;

  private static final long MIN = BoundedWindow.TIMESTAMP_MIN_VALUE.getMillis();

  /** Union tags of a shard's input: an event, or a tick carrying the clock's bound. */
  static final int EVENT = 0;

  static final int TICK = 1;

  private static final Coder<KV<Integer, Long>> CLOCK_INPUT =
      KvCoder.of(VarIntCoder.of(), VarLongCoder.of());

  private static final TupleTag<KV<Integer, RawUnionValue>> KEYED =
      new TupleTag<KV<Integer, RawUnionValue>>("keyed") {};
  private static final TupleTag<KV<Integer, Long>> NEWEST =
      new TupleTag<KV<Integer, Long>>("newest") {};

  private final EventFormat<E> format;
  private final Duration allowedLateness;
  private final int shards;
  private final @Nullable Duration dedupHorizon;

  private SplitLateEvents(
      EventFormat<E> format,
      Duration allowedLateness,
      int shards,
      @Nullable Duration dedupHorizon) {
    this.format = format;
    this.allowedLateness = allowedLateness;
    this.shards = shards;
    this.dedupHorizon = dedupHorizon;
  }

  /** The split of reference events. */
  public static SplitLateEvents<Event> withAllowedLateness(Duration allowedLateness) {
    return withAllowedLateness(ReferenceFormat.of(), allowedLateness);
  }

  /** The split of events of {@code format}. */
  public static <E> SplitLateEvents<E> withAllowedLateness(
      EventFormat<E> format, Duration allowedLateness) {
    Objects.requireNonNull(allowedLateness, "allowedLateness");
    if (allowedLateness.getMillis() < 0) {
      throw new IllegalArgumentException(
          "allowed lateness must be >= 0, got " + allowedLateness + "; use e.g. PT1H");
    }
    return new SplitLateEvents<>(
        Objects.requireNonNull(format, "format"), allowedLateness, DEFAULT_SHARDS, null);
  }

  /** How many keys share the comparison (the parallelism of this step). */
  public SplitLateEvents<E> withShards(int shards) {
    if (shards < 1) {
      throw new IllegalArgumentException(
          "shards must be >= 1, got " + shards + "; use e.g. " + DEFAULT_SHARDS);
    }
    return new SplitLateEvents<>(format, allowedLateness, shards, dedupHorizon);
  }

  /**
   * De-duplicates the input first, as {@code Events.deduplicate().withHorizon(horizon)} does, in
   * the same keyed step as the comparison: on unbounded input the step is keyed by the
   * de-duplication's hash bucket of the event_id ({@link StreamDedup#bucketOf}, {@value
   * StreamDedup#BUCKETS} keys, which replace {@code shards}), and each event is compared with the
   * bucket's bound only if it is the first copy of its id. The same outputs, counters and semantics
   * as {@code DeduplicateEvents} followed by this transform, with one shuffle of every event fewer.
   * Runners that serve no {@code MapState} (portable job servers) and bounded input get the two
   * transforms one after the other.
   */
  public SplitLateEvents<E> afterDeduplication(Duration horizon) {
    Objects.requireNonNull(horizon, "horizon");
    Events.deduplicate(format).withHorizon(horizon); // validates
    return new SplitLateEvents<>(format, allowedLateness, shards, horizon);
  }

  public Duration allowedLateness() {
    return allowedLateness;
  }

  public int shards() {
    return shards;
  }

  /**
   * The shard of an event: a hash of its event_id, stable across JVMs. {@code String.hashCode}
   * alone leaves sequential ids ({@code e-00000001}, ...) unevenly spread over a power-of-two
   * number of shards; murmur3's finalizer mixes its bits first.
   */
  static int shardOf(String eventId, int shards) {
    int h = eventId.hashCode();
    h ^= h >>> 16;
    h *= 0x85ebca6b;
    h ^= h >>> 13;
    h *= 0xc2b2ae35;
    h ^= h >>> 16;
    return Math.floorMod(h, shards);
  }

  @Override
  public PCollectionTuple expand(PCollection<E> input) {
    boolean bounded = input.isBounded() == PCollection.IsBounded.BOUNDED;
    if (dedupHorizon != null
        && (bounded || !DeduplicateEvents.mapStateAvailable(input.getPipeline().getOptions()))) {
      return input
          .apply("DeduplicateEvents", Events.deduplicate(format).withHorizon(dedupHorizon))
          .apply("SplitLateEvents", new SplitLateEvents<>(format, allowedLateness, shards, null));
    }
    TupleTag<E> onTime = onTime();
    TupleTag<E> lateTag = late();
    if (bounded) {
      PCollection<E> none = input.getPipeline().apply("NoLateEvents", Create.empty(format.coder()));
      return PCollectionTuple.of(onTime, input).and(lateTag, none);
    }
    Coder<KV<Integer, RawUnionValue>> shardInput =
        KvCoder.of(VarIntCoder.of(), UnionCoder.of(List.of(format.coder(), VarLongCoder.of())));
    boolean deduplicate = dedupHorizon != null;
    int keys = deduplicate ? StreamDedup.BUCKETS : shards;
    PCollectionTuple sharded =
        input.apply(
            "ShardEvents",
            ParDo.of(new ShardFn<>(format, keys, deduplicate))
                .withOutputTags(KEYED, TupleTagList.of(NEWEST)));
    PCollection<KV<Integer, Long>> seed =
        input
            .getPipeline()
            .apply(
                "SeedClock",
                Create.timestamped(List.of(TimestampedValue.of(KV.of(0, MIN), new Instant(MIN))))
                    .withCoder(CLOCK_INPUT));
    PCollection<KV<Integer, RawUnionValue>> ticks =
        PCollectionList.of(seed)
            .and(sharded.get(NEWEST).setCoder(CLOCK_INPUT))
            .apply("WithSeed", Flatten.pCollections())
            .apply("WatchWatermark", ParDo.of(new ClockFn(keys)))
            .setCoder(shardInput);
    PCollection<KV<Integer, RawUnionValue>> withTicks =
        PCollectionList.of(sharded.get(KEYED).setCoder(shardInput))
            .and(ticks)
            .apply("WithTicks", Flatten.pCollections());
    TupleTagList late = TupleTagList.of(lateTag);
    PCollectionTuple out =
        deduplicate
            ? withTicks.apply(
                "KeepFirstCopyAndCompare",
                ParDo.of(
                        new FirstCopyThenSplitFn<>(
                            format, allowedLateness.getMillis(), dedupHorizon))
                    .withOutputTags(onTime, late))
            : withTicks.apply(
                "CompareToWatermark",
                ParDo.of(new SplitFn<>(format, allowedLateness.getMillis()))
                    .withOutputTags(onTime, late));
    out.get(onTime).setCoder(format.coder());
    out.get(lateTag).setCoder(format.coder());
    return out;
  }

  /**
   * Keys each event by its shard, and reports the newest event time of each bundle to the clock:
   * one small record per bundle, not per event, so the clock's work does not grow with the data.
   */
  static final class ShardFn<E> extends DoFn<E, KV<Integer, RawUnionValue>> {
    private final EventFormat<E> format;
    private final int shards;
    private final boolean byDedupBucket;

    /** Bundle-scoped: reset in {@link #start}, reported in {@link #finish}. */
    private transient long bundleNewest;

    /** {@code byDedupBucket}: keyed by {@link StreamDedup#bucketOf} ({@code shards} of them). */
    ShardFn(EventFormat<E> format, int shards, boolean byDedupBucket) {
      this.format = format;
      this.shards = shards;
      this.byDedupBucket = byDedupBucket;
    }

    @StartBundle
    public void start() {
      bundleNewest = MIN;
    }

    @ProcessElement
    public void process(@Element E e, MultiOutputReceiver out) {
      String id = format.id(e);
      int key = byDedupBucket ? StreamDedup.bucketOf(id) : shardOf(id, shards);
      out.get(KEYED).output(KV.of(key, new RawUnionValue(EVENT, e)));
      bundleNewest = Math.max(bundleNewest, format.eventTimeMillis(e));
    }

    @FinishBundle
    public void finish(FinishBundleContext c) {
      if (bundleNewest > MIN) {
        c.output(NEWEST, KV.of(0, bundleNewest), new Instant(bundleNewest), GlobalWindow.INSTANCE);
      }
    }
  }

  /**
   * The clock: one key, fed one record per bundle of events. {@code bound} is a lower bound of the
   * input watermark, learnt from event-time timers: a timer firing at {@code t} proves the
   * watermark has reached {@code t}. The "hold" timer (at the end of time) carries the bound as its
   * output timestamp. At the end of a bundle in which the bound rose, every shard gets one tick
   * with the new bound, stamped with the bound announced before (see the class comment).
   *
   * <p>Probes form a ladder around the newest event time reported (the anchor): {@code anchor ±
   * 2^k} seconds for k = 0..{@value #LEVELS}. However far the watermark moves, every probe it
   * passes fires in the same round, so the bound lands within half the distance to the anchor in
   * one round: a few seconds behind the watermark while events flow (the anchor follows them), half
   * an idle gap at worst. The ladder is re-laid when the newest event time has moved on enough (see
   * {@link #reanchorDistance}), which keeps the timer work small during replays.
   */
  static final class ClockFn extends DoFn<KV<Integer, Long>, KV<Integer, RawUnionValue>> {
    /** 2^45 s is more than the whole range of Beam timestamps. */
    static final int LEVELS = 45;

    private static final long END = GlobalWindow.INSTANCE.maxTimestamp().getMillis();

    private final int shards;

    /**
     * Bundle-scoped (the clock has one key): the bound announced before this bundle and the highest
     * one learnt in it; announced together in {@link #finish}, so a round of probes costs one tick
     * per shard, however many of them fire.
     */
    private transient long announced;

    private transient @Nullable Long learnt;

    @StateId("bound")
    private final StateSpec<ValueState<Long>> boundSpec = StateSpecs.value(VarLongCoder.of());

    @StateId("newest")
    private final StateSpec<ValueState<Long>> newestSpec = StateSpecs.value(VarLongCoder.of());

    @StateId("anchor")
    private final StateSpec<ValueState<Long>> anchorSpec = StateSpecs.value(VarLongCoder.of());

    @TimerFamily("probe")
    private final TimerSpec probeSpec = TimerSpecs.timerMap(TimeDomain.EVENT_TIME);

    @TimerId("hold")
    private final TimerSpec holdSpec = TimerSpecs.timer(TimeDomain.EVENT_TIME);

    ClockFn(int shards) {
      this.shards = shards;
    }

    @StartBundle
    public void start() {
      learnt = null;
    }

    @ProcessElement
    public void process(
        @Element KV<Integer, Long> element,
        @StateId("bound") ValueState<Long> boundState,
        @StateId("newest") ValueState<Long> newestState,
        @StateId("anchor") ValueState<Long> anchorState,
        @TimerFamily("probe") TimerMap probes,
        @TimerId("hold") Timer hold) {
      Long stored = boundState.read();
      long bound = stored == null ? MIN : stored;
      if (stored == null) {
        boundState.write(bound);
        Bound.holdAt(hold, bound);
        layLadder(probes, MIN, bound);
      }
      long ts = element.getValue();
      if (ts <= MIN) {
        return; // the seed: it only set up the hold
      }
      Long newest = newestState.read();
      if (newest == null || ts > newest) {
        newestState.write(ts);
        Long anchor = anchorState.read();
        if (anchor == null || ts - anchor >= reanchorDistance(ts, bound)) {
          anchorState.write(ts);
          layLadder(probes, ts, bound);
        }
      }
    }

    /**
     * How far the newest event time must have moved past the anchor before the ladder is re-laid: a
     * sixteenth of its distance to the bound (at least a step), so the ladder follows the events
     * closely when the watermark is near them and rarely during a catch-up. Before the bound has
     * learnt anything, always.
     */
    static long reanchorDistance(long newest, long bound) {
      return bound == MIN ? STEP_MILLIS : Math.max(STEP_MILLIS, (newest - bound) / 16);
    }

    @OnTimerFamily("probe")
    public void onProbe(
        OnTimerContext c,
        @StateId("bound") ValueState<Long> boundState,
        @TimerId("hold") Timer hold) {
      long fired = c.fireTimestamp().getMillis();
      Long stored = boundState.read();
      long bound = stored == null ? MIN : stored;
      if (fired > bound) {
        if (learnt == null) {
          announced = bound;
        }
        learnt = fired;
        boundState.write(fired);
        Bound.holdAt(hold, fired);
      }
    }

    @OnTimer("hold")
    public void onHold() {
      // The watermark reached the end of time: no more input, nothing to hold.
    }

    /**
     * The ticks leave with the bundle, together with the moved hold: the runner commits both at
     * once, so the clock's output watermark never passes a tick that is still on its way.
     */
    @FinishBundle
    public void finish(FinishBundleContext c) {
      if (learnt == null) {
        return;
      }
      RawUnionValue tick = new RawUnionValue(TICK, learnt);
      Instant stamp = new Instant(announced);
      for (int s = 0; s < shards; s++) {
        c.output(KV.of(s, tick), stamp, GlobalWindow.INSTANCE);
      }
      learnt = null;
    }

    /** Sets the probes {@code anchor ± 2^k s} that lie between the bound and the end of time. */
    static void layLadder(TimerMap probes, long anchor, long bound) {
      setProbe(probes, "at", anchor, bound);
      for (int k = 0; k <= LEVELS; k++) {
        long offset = STEP_MILLIS << k;
        setProbe(probes, "lo" + k, anchor - offset, bound);
        setProbe(probes, "hi" + k, anchor > END - offset ? END : anchor + offset, bound);
      }
    }

    private static void setProbe(TimerMap probes, String id, long at, long bound) {
      if (at > bound && at <= END) {
        probes.get(id).withNoOutputTimestamp().set(new Instant(at));
      }
    }

    /** The hold timer's output timestamp (the bound) may be earlier than the element. */
    @Override
    @SuppressWarnings("deprecation")
    public Duration getAllowedTimestampSkew() {
      return Duration.millis(Long.MAX_VALUE / 16);
    }
  }

  /**
   * A shard: compares each event with a bound its own input watermark has reached. A tick only
   * proposes a bound {@code b}: the shard sets an event-time timer at {@code b - 1 ms} and adopts
   * that time when the timer fires, that is once its input watermark has passed it, so every event
   * that was ahead of that watermark on any input (still on its way when the clock's probe fired)
   * has already been compared with the older bound. Adopting a tick as soon as it is read could
   * judge such an event against a watermark that came after it: at the end of a drained replay the
   * final watermark reached the clock while the last events were still on their way to the shards,
   * and they went to the late output although the views' windows would have taken them. (The timer
   * sits 1 ms before the proposal because the clock holds its output at the proposal itself, and a
   * runner may fire a timer only once the watermark is strictly past it.) The "hold" timer keeps
   * the shard's output watermark at the adopted bound, so no window downstream drops an event the
   * shard passed as on time.
   */
  static final class SplitFn<E> extends DoFn<KV<Integer, RawUnionValue>, E> {
    private final EventFormat<E> format;
    private final long latenessMillis;
    private final Counter late = Metrics.counter(CounterNames.NAMESPACE, CounterNames.LATE);

    @StateId("bound")
    private final StateSpec<ValueState<Bound>> boundSpec = StateSpecs.value(Bound.CODER);

    @TimerId("adopt")
    private final TimerSpec adoptSpec = TimerSpecs.timer(TimeDomain.EVENT_TIME);

    @TimerId("hold")
    private final TimerSpec holdSpec = TimerSpecs.timer(TimeDomain.EVENT_TIME);

    SplitFn(EventFormat<E> format, long latenessMillis) {
      this.format = format;
      this.latenessMillis = latenessMillis;
    }

    @ProcessElement
    public void process(
        @Element KV<Integer, RawUnionValue> element,
        @StateId("bound") ValueState<Bound> boundState,
        @TimerId("adopt") Timer adopt,
        @TimerId("hold") Timer hold,
        MultiOutputReceiver out) {
      RawUnionValue value = element.getValue();
      Bound bound = Bound.read(boundState, hold);
      if (value.getUnionTag() == TICK) {
        bound.propose((Long) value.getValue(), boundState, adopt);
        return;
      }
      @SuppressWarnings("unchecked")
      E event = (E) value.getValue();
      bound.route(format.eventTimeMillis(event), event, latenessMillis, late, out);
    }

    @OnTimer("adopt")
    public void onAdopt(
        OnTimerContext c,
        @StateId("bound") ValueState<Bound> boundState,
        @TimerId("hold") Timer hold) {
      Bound.adopt(c.fireTimestamp().getMillis(), boundState, hold);
    }

    @OnTimer("hold")
    public void onHold() {
      // The watermark reached the end of time: no more input, nothing to hold.
    }

    /** The hold timer's output timestamp (the bound) may be earlier than the element. */
    @Override
    @SuppressWarnings("deprecation")
    public Duration getAllowedTimestampSkew() {
      return Duration.millis(Long.MAX_VALUE / 16);
    }
  }

  /**
   * A shard that also de-duplicates ({@link #afterDeduplication}): keyed by the de-duplication's
   * hash bucket, it keeps the bucket's ids ({@link StreamDedup}) next to the bound, and compares an
   * event as {@link SplitFn} does only when it is the first copy of its id. Ticks, adoption and the
   * hold are those of {@link SplitFn}; the sweep is that of {@code DeduplicateEvents}.
   */
  static final class FirstCopyThenSplitFn<E> extends DoFn<KV<Integer, RawUnionValue>, E> {
    private final EventFormat<E> format;
    private final long latenessMillis;
    private final StreamDedup dedup;
    private final Counter late = Metrics.counter(CounterNames.NAMESPACE, CounterNames.LATE);

    @StateId("bound")
    private final StateSpec<ValueState<Bound>> boundSpec = StateSpecs.value(Bound.CODER);

    @StateId("seen")
    private final StateSpec<MapState<String, Integer>> seenSpec = StreamDedup.seenSpec();

    @StateId("slots")
    private final StateSpec<MapState<Long, StreamDedup.IdChain>> slotsSpec =
        StreamDedup.slotsSpec();

    @StateId("sweepAt")
    private final StateSpec<ValueState<Long>> sweepAtSpec = StreamDedup.sweepAtSpec();

    @TimerId("adopt")
    private final TimerSpec adoptSpec = TimerSpecs.timer(TimeDomain.EVENT_TIME);

    @TimerId("hold")
    private final TimerSpec holdSpec = TimerSpecs.timer(TimeDomain.EVENT_TIME);

    @TimerId("sweep")
    private final TimerSpec sweepSpec = TimerSpecs.timer(TimeDomain.EVENT_TIME);

    FirstCopyThenSplitFn(EventFormat<E> format, long latenessMillis, Duration horizon) {
      this.format = format;
      this.latenessMillis = latenessMillis;
      this.dedup = new StreamDedup(horizon);
    }

    @ProcessElement
    public void process(
        @Element KV<Integer, RawUnionValue> element,
        @StateId("bound") ValueState<Bound> boundState,
        @StateId("seen") MapState<String, Integer> seen,
        @StateId("slots") MapState<Long, StreamDedup.IdChain> slots,
        @StateId("sweepAt") ValueState<Long> sweepAt,
        @TimerId("adopt") Timer adopt,
        @TimerId("hold") Timer hold,
        @TimerId("sweep") Timer sweep,
        MultiOutputReceiver out) {
      RawUnionValue value = element.getValue();
      Bound bound = Bound.read(boundState, hold);
      if (value.getUnionTag() == TICK) {
        bound.propose((Long) value.getValue(), boundState, adopt);
        return;
      }
      @SuppressWarnings("unchecked")
      E event = (E) value.getValue();
      long time = format.eventTimeMillis(event);
      if (dedup.firstCopy(
          format.id(event), format.contentHash(event), time, seen, slots, sweepAt, sweep)) {
        bound.route(time, event, latenessMillis, late, out);
      }
    }

    @FinishBundle
    public void finishBundle() {
      dedup.flushCounters();
    }

    @OnTimer("adopt")
    public void onAdopt(
        OnTimerContext c,
        @StateId("bound") ValueState<Bound> boundState,
        @TimerId("hold") Timer hold) {
      Bound.adopt(c.fireTimestamp().getMillis(), boundState, hold);
    }

    @OnTimer("sweep")
    public void onSweep(
        OnTimerContext c,
        @StateId("seen") MapState<String, Integer> seen,
        @StateId("slots") MapState<Long, StreamDedup.IdChain> slots,
        @StateId("sweepAt") ValueState<Long> sweepAt,
        @TimerId("sweep") Timer sweep) {
      StreamDedup.sweep(c.fireTimestamp().getMillis(), seen, slots, sweepAt, sweep);
    }

    @OnTimer("hold")
    public void onHold() {
      // The watermark reached the end of time: no more input, nothing to hold.
    }

    /** The hold timer's output timestamp (the bound) may be earlier than the element. */
    @Override
    @SuppressWarnings("deprecation")
    public Duration getAllowedTimestampSkew() {
      return Duration.millis(Long.MAX_VALUE / 16);
    }
  }

  /**
   * A shard's watermark bound and the bound a tick proposed (waiting for the shard's own timer), in
   * one immutable state value: a runner binds each state a step declares for every element.
   */
  static final class Bound {
    private static final long END = GlobalWindow.INSTANCE.maxTimestamp().getMillis();

    /** No proposal waiting: below every proposal. */
    private static final long NONE = Long.MIN_VALUE;

    static final Coder<Bound> CODER = new BoundCoder();

    /** The adopted bound: events more than the lateness behind it are late. */
    final long bound;

    final long proposed;

    Bound(long bound, long proposed) {
      this.bound = bound;
      this.proposed = proposed;
    }

    /** The shard's bound; on its first element, MIN with the output held there. */
    static Bound read(ValueState<Bound> state, Timer hold) {
      Bound stored = state.read();
      if (stored != null) {
        return stored;
      }
      Bound initial = new Bound(MIN, NONE);
      state.write(initial);
      holdAt(hold, MIN);
      return initial;
    }

    /** A tick's bound: adopted at {@code tick - 1 ms} once the shard's watermark has passed it. */
    void propose(long tick, ValueState<Bound> state, Timer adopt) {
      long at = Math.min(tick, END) - 1;
      if (at > bound && at > proposed) {
        state.write(new Bound(bound, at));
        adopt.withNoOutputTimestamp().set(new Instant(at));
      }
    }

    static void adopt(long reached, ValueState<Bound> state, Timer hold) {
      Bound stored = state.read();
      long bound = stored == null ? MIN : stored.bound;
      if (reached > bound) {
        bound = reached;
        holdAt(hold, reached);
      }
      state.write(new Bound(bound, NONE));
    }

    /** Routes by the constant tags whatever the type (a tag is its id): no new tag per event. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    <E> void route(
        long eventTime, E event, long latenessMillis, Counter late, DoFn.MultiOutputReceiver out) {
      if (eventTime + latenessMillis < bound) {
        late.inc();
        out.get((TupleTag) LATE).output(event);
      } else {
        out.get((TupleTag) ON_TIME).output(event);
      }
    }

    /** Holds the step's output watermark at {@code bound} (a timer at the end of time). */
    static void holdAt(Timer hold, long bound) {
      hold.withOutputTimestamp(new Instant(bound)).set(new Instant(END));
    }
  }

  private static final class BoundCoder extends AtomicCoder<Bound> {
    @Override
    public void encode(Bound value, OutputStream out) throws IOException {
      VarLongCoder.of().encode(value.bound, out);
      VarLongCoder.of().encode(value.proposed, out);
    }

    @Override
    public Bound decode(InputStream in) throws IOException {
      return new Bound(VarLongCoder.of().decode(in), VarLongCoder.of().decode(in));
    }

    @Override
    public void verifyDeterministic() {}
  }
}
