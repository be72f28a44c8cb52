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
import org.checkerframework.checker.nullness.qual.Nullable;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * Splits events into on-time and late: an event is late when its event time is more than the
 * allowed lateness behind the watermark. Late events leave through {@link #LATE} (counter {@code
 * late}) instead of being dropped silently by a window downstream.
 *
 * <p>Why this is exact: Beam drops an element at a {@code GroupByKey} when its window's end plus
 * the allowed lateness is behind the watermark, and gives a {@code DoFn} no way to read the
 * watermark. This transform learns a lower bound of the watermark from event-time timers, and
 * holds its own output watermark at that bound (a timer's output timestamp). So everything it
 * passes as on time has {@code ts + lateness >= bound >= downstream watermark}, which is never
 * dropped by a window with the same allowed lateness (every window containing {@code ts} ends
 * after {@code ts}). The bound trails the real watermark by about a second while events flow
 * (and by a fraction of an idle gap otherwise), so an event slightly later than the lateness may
 * still be accepted: it then appears in the view, never in neither place.
 *
 * <p>Unbounded input only; on bounded input nothing is late and the input is returned as on
 * time. Runs in the global window, before the views' windowing. The work is spread over {@code
 * shards} keys (default 4), each seeded at start so that it holds the watermark from the first
 * element on.
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
    return new SplitLateEvents(allowedLateness, 4);
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
   * Per shard: {@code bound} is a watermark lower bound learnt from the "probe" timer; the probe
   * always holds the output watermark at {@code bound}. See {@link #nextProbe} for how it moves.
   */
  static final class SplitFn extends DoFn<KV<Integer, Event>, Event> {
    private final long latenessMillis;
    private final Counter late = Metrics.counter(CounterNames.NAMESPACE, CounterNames.LATE);

    @StateId("bound")
    private final StateSpec<ValueState<Long>> boundSpec = StateSpecs.value(VarLongCoder.of());

    @StateId("newest")
    private final StateSpec<ValueState<Long>> newestSpec = StateSpecs.value(VarLongCoder.of());

    @StateId("armed")
    private final StateSpec<ValueState<Long>> armedSpec = StateSpecs.value(VarLongCoder.of());

    @TimerId("probe")
    private final TimerSpec probeSpec = TimerSpecs.timer(TimeDomain.EVENT_TIME);

    SplitFn(long latenessMillis) {
      this.latenessMillis = latenessMillis;
    }

    @ProcessElement
    public void process(
        @Element KV<Integer, Event> element,
        @StateId("bound") ValueState<Long> boundState,
        @StateId("newest") ValueState<Long> newestState,
        @StateId("armed") ValueState<Long> armedState,
        @TimerId("probe") Timer probe,
        MultiOutputReceiver out) {
      Long storedBound = boundState.read();
      long bound = storedBound == null ? BoundedWindow.TIMESTAMP_MIN_VALUE.getMillis() : storedBound;
      Long newest = newestState.read();
      Event event = element.getValue();
      if (event != null) {
        long ts = event.timestampMillis();
        if (ts + latenessMillis < bound) {
          late.inc();
          out.get(LATE).output(event);
        } else {
          out.get(ON_TIME).output(event);
        }
        if (newest == null || ts > newest) {
          newest = ts;
          newestState.write(ts);
        }
      }
      Long armed = armedState.read();
      long wanted = nextProbe(bound, newest);
      if (storedBound == null || armed == null || armed > wanted) {
        boundState.write(bound);
        arm(probe, armedState, wanted, bound);
      }
    }

    @OnTimer("probe")
    public void onProbe(
        OnTimerContext c,
        @StateId("bound") ValueState<Long> boundState,
        @StateId("newest") ValueState<Long> newestState,
        @StateId("armed") ValueState<Long> armedState,
        @TimerId("probe") Timer probe) {
      long bound = c.fireTimestamp().getMillis();
      boundState.write(bound);
      long next = nextProbe(bound, newestState.read());
      if (next > GlobalWindow.INSTANCE.maxTimestamp().getMillis()) {
        // The watermark is at the end of time: no more input, release the hold.
        armedState.clear();
        return;
      }
      arm(probe, armedState, next, bound);
    }

    /**
     * Where to probe next. Below the newest event time, close a quarter of the distance to it
     * (at least one step), so the bound converges on the event times that matter in a few dozen
     * firings wherever it starts. At or beyond it, grow by an eighth of the distance travelled
     * past it, so an idle shard or the end of input costs a few hundred firings, and the bound
     * trails the watermark by at most about an eighth of the idle span.
     */
    static long nextProbe(long bound, @Nullable Long newest) {
      if (newest != null && bound < newest) {
        return bound + Math.max(STEP_MILLIS, (newest - bound) / 4);
      }
      long reference = newest != null ? newest : BoundedWindow.TIMESTAMP_MIN_VALUE.getMillis();
      return bound + Math.max(STEP_MILLIS, (bound - reference) / 8);
    }

    private static void arm(Timer probe, ValueState<Long> armedState, long at, long hold) {
      long end = GlobalWindow.INSTANCE.maxTimestamp().getMillis();
      long fire = Math.min(at, end);
      probe.withOutputTimestamp(new Instant(hold)).set(new Instant(fire));
      armedState.write(fire);
    }

    /** The probe holds the watermark at the bound, which may be earlier than the element. */
    @Override
    @SuppressWarnings("deprecation")
    public Duration getAllowedTimestampSkew() {
      return Duration.millis(Long.MAX_VALUE / 16);
    }
  }
}
