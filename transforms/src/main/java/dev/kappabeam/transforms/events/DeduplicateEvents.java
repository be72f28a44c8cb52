package dev.kappabeam.transforms.events;

import dev.kappabeam.transforms.CounterNames;
import dev.kappabeam.transforms.LogicDefaults;
import dev.kappabeam.transforms.time.Timestamps;
import java.util.Objects;
import org.apache.beam.sdk.coders.BooleanCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.options.ExperimentalOptions;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.state.MapState;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.state.TimeDomain;
import org.apache.beam.sdk.state.Timer;
import org.apache.beam.sdk.state.TimerSpec;
import org.apache.beam.sdk.state.TimerSpecs;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * Removes re-sent copies of an event, by its id ({@link EventFormat#id}; the reference format's
 * {@code event_id}).
 *
 * <p>Bounded input: exact over the whole input (a grouping by hash bucket of the event_id; the copy
 * with the earliest event time is kept, ties broken by content). Unbounded input: the first copy
 * processed is kept, and a copy is recognised while the watermark has not passed the first copy's
 * event time plus the horizon (default 1 hour), rounded up to the end of a sweep slot of a
 * sixteenth of the horizon (state is kept per hash bucket of the event_id and swept per slot, not
 * per event); the state for an event_id is dropped after that, so a copy arriving later is counted
 * again. (A primed run keeps state and a timer per event_id, without the rounding.) Elements keep
 * their timestamps; works in the global window before any windowing. Counters: {@code
 * duplicates_removed}, and {@code duplicates_conflicting} for copies whose content differs from the
 * first (a producer bug; they are removed all the same).
 *
 * <pre>{@code
 * PCollection<Event> unique = events.apply("DeduplicateEvents",
 *     Events.deduplicate().withHorizon(Duration.standardHours(1)));
 * PCollection<Order> orders = raw.apply("DeduplicateOrders", Events.deduplicate(new OrderFormat()));
 * }</pre>
 */
public final class DeduplicateEvents<E> extends PTransform<PCollection<E>, PCollection<E>> {
  public static final Duration DEFAULT_HORIZON =
      LogicDefaults.duration(LogicDefaults.DEDUP_HORIZON);

  private final EventFormat<E> format;
  private final Duration horizon;

  DeduplicateEvents(EventFormat<E> format, Duration horizon) {
    this.format = Objects.requireNonNull(format, "format");
    this.horizon = horizon;
  }

  /** How long, in event time past an event, copies of it are recognised on unbounded input. */
  public DeduplicateEvents<E> withHorizon(Duration horizon) {
    Objects.requireNonNull(horizon, "horizon");
    if (horizon.getMillis() <= 0) {
      throw new IllegalArgumentException(
          "de-duplication horizon must be positive, got " + horizon + "; use e.g. PT1H");
    }
    return new DeduplicateEvents<>(format, horizon);
  }

  public Duration horizon() {
    return horizon;
  }

  /**
   * The same de-duplication, primed: input {@link #EVENTS} are de-duplicated as by this transform,
   * and an event whose event_id also appears in {@link #PRIMER} is removed as a duplicate. Primer
   * events are never output; they are the records before a Lambda cutoff, which the batch run
   * already counted. Bounded: exact. Unbounded: a primer copy is recognised within the horizon. A
   * counted event whose event time is at most {@code primerNewest} (the newest event time among the
   * primer records: only such an event can have a primer copy, as re-sent copies share their event
   * time) waits until the watermark passes its event time, so its primer copy, read from an earlier
   * part of the log, is seen first whatever order the runner processes them in; later events pass
   * at once. A primer copy that is later than the watermark, and so arrives after its counted copy
   * was output, cannot be undone and is counted as {@code duplicates_missed_at_cutoff}.
   *
   * <pre>{@code
   * PCollection<Event> unique = PCollectionTuple.of(DeduplicateEvents.EVENTS, afterCutoff)
   *     .and(DeduplicateEvents.PRIMER, beforeCutoff)
   *     .apply("DeduplicateEvents", Events.deduplicate().primed(newestBeforeCutoff));
   * }</pre>
   */
  public Primed<E> primed(Instant primerNewest) {
    return new Primed<>(
        format, horizon, Objects.requireNonNull(primerNewest, "primerNewest").getMillis());
  }

  /** Input tags of {@link #primed}, for the reference format ({@link #events()}: any format). */
  public static final TupleTag<Event> EVENTS = new TupleTag<Event>("events") {};

  public static final TupleTag<Event> PRIMER = new TupleTag<Event>("primer") {};

  /** The input tag of the counted events of {@link #primed}. */
  public TupleTag<E> events() {
    return new TupleTag<>(EVENTS.getId());
  }

  /** The input tag of the primer events of {@link #primed}. */
  public TupleTag<E> primer() {
    return new TupleTag<>(PRIMER.getId());
  }

  /** See {@link DeduplicateEvents#primed}. */
  public static final class Primed<E> extends PTransform<PCollectionTuple, PCollection<E>> {
    private final EventFormat<E> format;
    private final Duration horizon;
    private final long primerNewest;

    Primed(EventFormat<E> format, Duration horizon, long primerNewest) {
      this.format = format;
      this.horizon = horizon;
      this.primerNewest = primerNewest;
    }

    @Override
    public PCollection<E> expand(PCollectionTuple input) {
      TupleTag<E> events = new TupleTag<>(EVENTS.getId());
      TupleTag<E> primer = new TupleTag<>(PRIMER.getId());
      return deduplicate(
          format,
          input.get(events),
          input.has(primer) ? input.get(primer) : null,
          horizon,
          primerNewest);
    }
  }

  @Override
  public PCollection<E> expand(PCollection<E> input) {
    return deduplicate(format, input, null, horizon, Long.MIN_VALUE);
  }

  private static <E> PCollection<E> deduplicate(
      EventFormat<E> format,
      PCollection<E> counted,
      @Nullable PCollection<E> primer,
      Duration horizon,
      long primerNewest) {
    Coder<E> coder = format.coder();
    boolean primed = primer != null;
    if (counted.isBounded() == PCollection.IsBounded.BOUNDED
        && (primer == null || primer.isBounded() == PCollection.IsBounded.BOUNDED)) {
      // Batch: group by a hash bucket of the event_id, not by the event_id itself, so that each
      // group holds many events (runners pay a fixed cost per group), and each bundle's events as
      // one list per bucket (a few thousand elements to sort and ship). The grouping keeps the
      // default timestamp (the end of the global window): Beam's Flink batch translation then
      // groups with one sort-based reduce instead of a combine that concatenates lists (the
      // EARLIEST combiner forced that path). KeepOneCopy gives each event its own event time back;
      // downstream of it, bounded runs fold the views in the global window (BoundedViews), so no
      // fixed window of the views sees the events behind its watermark.
      KvCoder<Integer, BoundedDedup.Bucketed<E>> bucketed = BoundedDedup.coder(format);
      PCollection<KV<Integer, BoundedDedup.Bucketed<E>>> buckets =
          counted
              .apply("BucketByEventId", ParDo.of(new BucketFn<>(format, false)))
              .setCoder(bucketed);
      if (primed) {
        buckets =
            PCollectionList.of(buckets)
                .and(
                    primer
                        .apply("BucketPrimer", ParDo.of(new BucketFn<>(format, true)))
                        .setCoder(bucketed))
                .apply("WithPrimer", Flatten.pCollections());
      }
      return buckets
          .apply("GroupBuckets", GroupByKey.create())
          .apply("KeepOneCopy", ParDo.of(new OneCopyFn<>(format)))
          .setCoder(coder);
    }
    if (!primed && mapStateAvailable(counted.getPipeline().getOptions())) {
      // Plain streaming: state per hash bucket of the event_id (a map of the ids seen) and one
      // expiry timer per bucket, not a state cell and a timer per event.
      return counted
          .apply("BucketByEventId", ParDo.of(new StreamBucketFn<>(format)))
          .setCoder(KvCoder.of(VarIntCoder.of(), coder))
          .apply("KeepFirstCopy", ParDo.of(new FirstCopyPerBucketFn<>(format, horizon)))
          .setCoder(coder);
    }
    // An event and whether it only primes (true) or is counted (false).
    KvCoder<String, KV<Boolean, E>> keyedCoder =
        KvCoder.of(StringUtf8Coder.of(), KvCoder.of(BooleanCoder.of(), coder));
    PCollection<KV<String, KV<Boolean, E>>> keyed =
        counted.apply("KeyByEventId", ParDo.of(new KeyFn<>(format, false))).setCoder(keyedCoder);
    if (primed) {
      keyed =
          PCollectionList.of(keyed)
              .and(
                  primer
                      .apply("KeyPrimer", ParDo.of(new KeyFn<>(format, true)))
                      .setCoder(keyedCoder))
              .apply("WithPrimer", Flatten.pCollections());
    }
    return keyed
        .apply("KeepFirstCopy", ParDo.of(new FirstCopyFn<>(format, horizon, primed, primerNewest)))
        .setCoder(coder);
  }

  /** A bundle's events per hash bucket of the event_id ({@link BoundedDedup.Buffer}). */
  static final class BucketFn<E> extends DoFn<E, KV<Integer, BoundedDedup.Bucketed<E>>> {
    private final EventFormat<E> format;
    private final boolean primer;
    private transient BoundedDedup.Buffer<E> buffer;

    BucketFn(EventFormat<E> format, boolean primer) {
      this.format = format;
      this.primer = primer;
    }

    @StartBundle
    public void startBundle() {
      buffer = new BoundedDedup.Buffer<>(format, primer);
    }

    @ProcessElement
    public void process(
        @Element E e,
        @Timestamp Instant timestamp,
        OutputReceiver<KV<Integer, BoundedDedup.Bucketed<E>>> out) {
      if (buffer.add(e, timestamp.getMillis())) {
        buffer.drain(out::outputWithTimestamp);
      }
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext out) {
      buffer.drain((list, ts) -> out.output(list, ts, GlobalWindow.INSTANCE));
      buffer = null;
    }

    /** A list carries its earliest event's time, which may be behind the current event's. */
    @Override
    @SuppressWarnings("deprecation")
    public Duration getAllowedTimestampSkew() {
      return Timestamps.ANY_SKEW;
    }
  }

  /**
   * Whether the runner serves {@link MapState}. Beam 2.62's portable job servers (the Flink job
   * server behind {@code PortableRunner}) answer no map-state request from the SDK harness ({@code
   * StateRequestHandlers} has no handler for multimap user state: the run fails with an {@code
   * IllegalStateException} from {@code handlerNotFound}), so on a portable runner, or with the Fn
   * API experiment, the streaming de-duplication keeps state and a timer per event_id instead: the
   * same semantics without the sweep slots' rounding, slower.
   */
  public static boolean mapStateAvailable(PipelineOptions options) {
    String runner = options.getRunner() == null ? "" : options.getRunner().getSimpleName();
    return !runner.contains("PortableRunner")
        && !ExperimentalOptions.hasExperiment(options, "beam_fn_api");
  }

  static final class StreamBucketFn<E> extends DoFn<E, KV<Integer, E>> {
    private final EventFormat<E> format;

    StreamBucketFn(EventFormat<E> format) {
      this.format = format;
    }

    @ProcessElement
    public void process(@Element E e, OutputReceiver<KV<Integer, E>> out) {
      out.output(KV.of(StreamDedup.bucketOf(format.id(e)), e));
    }
  }

  /** Unbounded input, not primed: one hash bucket of event_ids at a time ({@link StreamDedup}). */
  static final class FirstCopyPerBucketFn<E> extends DoFn<KV<Integer, E>, E> {
    private final EventFormat<E> format;
    private final StreamDedup dedup;

    @StateId("seen")
    private final StateSpec<MapState<String, Integer>> seenSpec = StreamDedup.seenSpec();

    @StateId("slots")
    private final StateSpec<MapState<Long, StreamDedup.IdChain>> slotsSpec =
        StreamDedup.slotsSpec();

    @StateId("sweepAt")
    private final StateSpec<ValueState<Long>> sweepAtSpec = StreamDedup.sweepAtSpec();

    @TimerId("sweep")
    private final TimerSpec sweepSpec = TimerSpecs.timer(TimeDomain.EVENT_TIME);

    FirstCopyPerBucketFn(EventFormat<E> format, Duration horizon) {
      this.format = format;
      this.dedup = new StreamDedup(horizon);
    }

    @ProcessElement
    public void process(
        @Element KV<Integer, E> element,
        @StateId("seen") MapState<String, Integer> seen,
        @StateId("slots") MapState<Long, StreamDedup.IdChain> slots,
        @StateId("sweepAt") ValueState<Long> sweepAt,
        @TimerId("sweep") Timer sweep,
        OutputReceiver<E> out) {
      E event = element.getValue();
      if (dedup.firstCopy(
          format.id(event),
          format.contentHash(event),
          format.eventTimeMillis(event),
          seen,
          slots,
          sweepAt,
          sweep)) {
        out.output(event);
      }
    }

    @FinishBundle
    public void finishBundle() {
      dedup.flushCounters();
    }

    @OnTimer("sweep")
    public void onSweep(
        OnTimerContext context,
        @StateId("seen") MapState<String, Integer> seen,
        @StateId("slots") MapState<Long, StreamDedup.IdChain> slots,
        @StateId("sweepAt") ValueState<Long> sweepAt,
        @TimerId("sweep") Timer sweep) {
      // fireTimestamp(), not timestamp(): the latter is the output time
      StreamDedup.sweep(context.fireTimestamp().getMillis(), seen, slots, sweepAt, sweep);
    }
  }

  static final class KeyFn<E> extends DoFn<E, KV<String, KV<Boolean, E>>> {
    private final EventFormat<E> format;
    private final boolean primer;

    KeyFn(EventFormat<E> format, boolean primer) {
      this.format = format;
      this.primer = primer;
    }

    @ProcessElement
    public void process(@Element E e, OutputReceiver<KV<String, KV<Boolean, E>>> out) {
      out.output(KV.of(format.id(e), KV.of(primer, e)));
    }
  }

  /** Bounded input: all events of one hash bucket at once ({@link BoundedDedup#keepOneCopy}). */
  static final class OneCopyFn<E> extends DoFn<KV<Integer, Iterable<BoundedDedup.Bucketed<E>>>, E> {
    private final EventFormat<E> format;

    OneCopyFn(EventFormat<E> format) {
      this.format = format;
    }

    @ProcessElement
    public void process(
        @Element KV<Integer, Iterable<BoundedDedup.Bucketed<E>>> bucket, OutputReceiver<E> out) {
      BoundedDedup.keepOneCopy(
          format,
          bucket.getValue(),
          new BoundedDedup.Kept<E>() {
            @Override
            public void event(E e) {
              out.outputWithTimestamp(e, new Instant(format.eventTimeMillis(e)));
            }

            @Override
            public void deadLetter(DeadLetter d) {
              throw new IllegalStateException("no dead letters in lists of events: " + d);
            }
          });
    }

    /**
     * Events normally move forward from their group's timestamp (the earliest list's); a runner
     * that puts a group at the end of the window instead (DirectRunner, for a group it sees as
     * late) gets them back at their own event times all the same.
     */
    @Override
    @SuppressWarnings("deprecation")
    public Duration getAllowedTimestampSkew() {
      return Timestamps.ANY_SKEW;
    }
  }

  /**
   * Keeps the first copy per key; remembers a content hash to spot conflicting copies. Primed runs
   * also remember whether the first copy was counted (to detect a primer copy that came too late)
   * and hold counted events that may have a primer copy until the watermark passes them.
   */
  static final class FirstCopyFn<E> extends DoFn<KV<String, KV<Boolean, E>>, E> {
    private final EventFormat<E> format;
    private final Duration horizon;
    private final boolean primed;
    private final long primerNewest;
    private final Counter duplicates =
        Metrics.counter(CounterNames.NAMESPACE, CounterNames.DUPLICATES_REMOVED);
    private final Counter conflicting =
        Metrics.counter(CounterNames.NAMESPACE, CounterNames.DUPLICATES_CONFLICTING);
    private final Counter missed =
        Metrics.counter(CounterNames.NAMESPACE, CounterNames.DUPLICATES_MISSED_AT_CUTOFF);

    @StateId("seen")
    private final StateSpec<ValueState<Integer>> seenSpec = StateSpecs.value(VarIntCoder.of());

    @StateId("counted")
    private final StateSpec<ValueState<Boolean>> countedSpec = StateSpecs.value(BooleanCoder.of());

    @StateId("held")
    private final StateSpec<ValueState<E>> heldSpec;

    @TimerId("forget")
    private final TimerSpec forgetSpec = TimerSpecs.timer(TimeDomain.EVENT_TIME);

    @TimerId("release")
    private final TimerSpec releaseSpec = TimerSpecs.timer(TimeDomain.EVENT_TIME);

    FirstCopyFn(EventFormat<E> format, Duration horizon, boolean primed, long primerNewest) {
      this.format = format;
      this.heldSpec = StateSpecs.value(format.coder());
      this.horizon = horizon;
      this.primed = primed;
      this.primerNewest = primerNewest;
    }

    @ProcessElement
    public void process(
        @Element KV<String, KV<Boolean, E>> element,
        @StateId("seen") ValueState<Integer> seen,
        @StateId("counted") ValueState<Boolean> counted,
        @StateId("held") ValueState<E> held,
        @TimerId("forget") Timer forget,
        @TimerId("release") Timer release,
        OutputReceiver<E> out) {
      boolean primer = element.getValue().getKey();
      E event = element.getValue().getValue();
      int hash = format.contentHash(event);
      Integer firstHash = seen.read();
      if (firstHash != null) {
        if (primer) {
          E waiting = primed ? held.read() : null;
          if (waiting != null) {
            // The primer copy came while the counted copy waited: the batch counted the event.
            held.clear();
            release.clear();
            duplicates.inc();
            if (format.contentHash(waiting) != hash) {
              conflicting.inc();
            }
          } else if (Boolean.TRUE.equals(counted.read())) {
            // The batch counted this event and the speed side already output a copy: the merged
            // view has it twice until the next batch. Say so.
            missed.inc();
          }
          return;
        }
        duplicates.inc();
        if (firstHash != hash) {
          conflicting.inc();
        }
        return;
      }
      seen.write(hash);
      long time = format.eventTimeMillis(event);
      Instant at = new Instant(time);
      forget.withNoOutputTimestamp().set(at.plus(horizon));
      if (primer) {
        return;
      }
      if (primed && time <= primerNewest) {
        held.write(event);
        release.withOutputTimestamp(at).set(at.plus(Duration.millis(1)));
        return;
      }
      if (primed) {
        counted.write(true);
      }
      out.output(event);
    }

    @OnTimer("release")
    public void onRelease(
        @StateId("held") ValueState<E> held,
        @StateId("counted") ValueState<Boolean> counted,
        OutputReceiver<E> out) {
      E event = held.read();
      if (event == null) {
        return;
      }
      held.clear();
      counted.write(true);
      out.outputWithTimestamp(event, new Instant(format.eventTimeMillis(event)));
    }

    @OnTimer("forget")
    public void onForget(
        @StateId("seen") ValueState<Integer> seen,
        @StateId("counted") ValueState<Boolean> counted) {
      seen.clear();
      if (primed) {
        counted.clear(); // only primed runs write it: one state access less per event otherwise
      }
    }
  }
}
