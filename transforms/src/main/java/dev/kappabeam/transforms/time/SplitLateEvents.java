package dev.kappabeam.transforms.time;

import dev.kappabeam.transforms.CounterNames;
import dev.kappabeam.transforms.events.Event;
import dev.kappabeam.transforms.events.EventCoder;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.NullableCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
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
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TimestampedValue;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * Splits events into on-time and late: an event is late when its event time is more than the
 * allowed lateness behind the watermark. Late events leave through {@link #LATE} (counter {@code
 * late}) instead of being dropped silently by a window downstream.
 *
 * <p>Why this is exact: Beam drops an element at a {@code GroupByKey} when its window's end plus
 * the allowed lateness is behind the watermark, and gives a {@code DoFn} no way to read the
 * watermark. This transform learns a lower bound of the watermark from event-time timers, and holds
 * its own output watermark at that bound (a timer's output timestamp). So everything it passes as
 * on time has {@code ts + lateness >= bound >= downstream watermark}, which is never dropped by a
 * window with the same allowed lateness (every window containing {@code ts} ends after {@code ts}).
 * The bound trails the real watermark by about a second while events flow (and by a fraction of an
 * idle gap otherwise), so an event slightly later than the lateness may still be accepted: it then
 * appears in the view, never in neither place.
 *
 * <p>Unbounded input only; on bounded input nothing is late and the input is returned as on time.
 * Runs in the global window, before the views' windowing. The check runs on {@code shards} keys
 * (default 1: it is a few state reads per event; raise it for very high rates), each seeded at
 * start so that it holds the watermark from the first element on. A shard that has seen no event
 * yet knows little about the watermark, so with many shards and a trickle of events more slightly
 * late events are accepted rather than sent to the late output.
 */
public final class SplitLateEvents extends PTransform<PCollection<Event>, PCollectionTuple> {
  public static final Duration DEFAULT_LATENESS = Duration.standardHours(1);
  public static final TupleTag<Event> ON_TIME = new TupleTag<Event>("onTime") {};
  public static final TupleTag<Event> LATE = new TupleTag<Event>("late") {};

  /** Granularity of the watermark bound while events flow. */
  static final long STEP_MILLIS = 1_000L;

  private final Duration allowedLateness;
  private final int shards;

  private SplitLateEvents(Duration allowedLateness, int shards) {
    this.allowedLateness = allowedLateness;
    this.shards = shards;
  }

  public static SplitLateEvents withAllowedLateness(Duration allowedLateness) {
    Objects.requireNonNull(allowedLateness, "allowedLateness");
    if (allowedLateness.getMillis() < 0) {
      throw new IllegalArgumentException(
          "allowed lateness must be >= 0, got " + allowedLateness + "; use e.g. PT1H");
    }
    return new SplitLateEvents(allowedLateness, 1);
  }

  /** How many keys share the lateness check (parallelism of this step). */
  public SplitLateEvents withShards(int shards) {
    if (shards < 1) {
      throw new IllegalArgumentException("shards must be >= 1, got " + shards);
    }
    return new SplitLateEvents(allowedLateness, shards);
  }

  public Duration allowedLateness() {
    return allowedLateness;
  }

  @Override
  public PCollectionTuple expand(PCollection<Event> input) {
    if (input.isBounded() == PCollection.IsBounded.BOUNDED) {
      PCollection<Event> none =
          input.getPipeline().apply("NoLateEvents", Create.empty(EventCoder.of()));
      return PCollectionTuple.of(ON_TIME, input).and(LATE, none);
    }
    KvCoder<Integer, Event> coder = KvCoder.of(VarIntCoder.of(), NullableCoder.of(EventCoder.of()));
    List<TimestampedValue<KV<Integer, Event>>> seeds = new ArrayList<>();
    for (int s = 0; s < shards; s++) {
      seeds.add(TimestampedValue.of(KV.of(s, null), BoundedWindow.TIMESTAMP_MIN_VALUE));
    }
    PCollection<KV<Integer, Event>> seeded =
        input.getPipeline().apply("SeedShards", Create.timestamped(seeds).withCoder(coder));
    PCollection<KV<Integer, Event>> keyed =
        input.apply("ShardEvents", ParDo.of(new ShardFn(shards))).setCoder(coder);
    PCollectionTuple out =
        PCollectionList.of(seeded)
            .and(keyed)
            .apply("WithSeeds", Flatten.pCollections())
            .apply(
                "CompareToWatermark",
                ParDo.of(new SplitFn(allowedLateness.getMillis()))
                    .withOutputTags(ON_TIME, TupleTagList.of(LATE)));
    out.get(ON_TIME).setCoder(EventCoder.of());
    out.get(LATE).setCoder(EventCoder.of());
    return out;
  }

  static final class ShardFn extends DoFn<Event, KV<Integer, Event>> {
    private final int shards;

    ShardFn(int shards) {
      this.shards = shards;
    }

    @ProcessElement
    public void process(@Element Event e, OutputReceiver<KV<Integer, Event>> out) {
      out.output(KV.of(Math.floorMod(e.eventId().hashCode(), shards), e));
    }
  }

  /**
   * Per shard, {@code bound} is a lower bound of the input watermark, learnt from event-time
   * timers: a timer firing at {@code t} proves the watermark has reached {@code t}. The "hold"
   * timer (at the end of time) carries {@code bound} as its output timestamp, so this step's output
   * watermark never runs ahead of what the classification used.
   *
   * <p>Probes form a ladder around the newest event time seen (the anchor): {@code anchor ± 2^k}
   * seconds for k = 0..{@value #LEVELS}. However far the watermark moves, every probe it passes
   * fires in the same round, so the bound lands within half the distance to the anchor in one
   * round: a few seconds behind the watermark while events flow (the anchor follows them), half an
   * idle gap at worst. The ladder is re-laid when the newest event time has moved on enough (see
   * {@link #reanchorDistance}), which keeps the timer work per event small during replays.
   */
  static final class SplitFn extends DoFn<KV<Integer, Event>, Event> {
    /** 2^45 s is more than the whole range of Beam timestamps. */
    static final int LEVELS = 45;

    private static final long MIN = BoundedWindow.TIMESTAMP_MIN_VALUE.getMillis();
    private static final long END = GlobalWindow.INSTANCE.maxTimestamp().getMillis();

    private final long latenessMillis;
    private final Counter late = Metrics.counter(CounterNames.NAMESPACE, CounterNames.LATE);

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

    SplitFn(long latenessMillis) {
      this.latenessMillis = latenessMillis;
    }

    @ProcessElement
    public void process(
        @Element KV<Integer, Event> element,
        @StateId("bound") ValueState<Long> boundState,
        @StateId("newest") ValueState<Long> newestState,
        @StateId("anchor") ValueState<Long> anchorState,
        @TimerFamily("probe") TimerMap probes,
        @TimerId("hold") Timer hold,
        MultiOutputReceiver out) {
      Long stored = boundState.read();
      long bound = stored == null ? MIN : stored;
      if (stored == null) {
        boundState.write(bound);
        holdAt(hold, bound);
        layLadder(probes, MIN, bound);
      }
      Event event = element.getValue();
      if (event == null) {
        return; // a seed: it only set up the hold
      }
      long ts = event.timestampMillis();
      if (ts + latenessMillis < bound) {
        late.inc();
        out.get(LATE).output(event);
      } else {
        out.get(ON_TIME).output(event);
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
      Long bound = boundState.read();
      if (bound == null || fired > bound) {
        boundState.write(fired);
        holdAt(hold, fired);
      }
    }

    @OnTimer("hold")
    public void onHold() {
      // The watermark reached the end of time: no more input, nothing to hold.
    }

    private static void holdAt(Timer hold, long bound) {
      hold.withOutputTimestamp(new Instant(bound)).set(new Instant(END));
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
}
