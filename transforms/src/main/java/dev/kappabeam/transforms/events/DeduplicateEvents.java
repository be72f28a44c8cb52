package dev.kappabeam.transforms.events;

import dev.kappabeam.transforms.CounterNames;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.state.TimeDomain;
import org.apache.beam.sdk.state.Timer;
import org.apache.beam.sdk.state.TimerSpec;
import org.apache.beam.sdk.state.TimerSpecs;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.TimestampCombiner;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * Removes re-sent copies of an event, by {@code event_id}.
 *
 * <p>Bounded input: exact over the whole input (a grouping by hash bucket of the event_id; the copy
 * with the earliest event time is kept, ties broken by content). Unbounded input: the first copy
 * processed is kept, and a copy is recognised while the watermark has not passed the first copy's
 * event time plus the horizon (default 1 hour); the state for an event_id is dropped after that, so
 * a copy arriving later is counted again. Elements keep their timestamps; works in the global
 * window before any windowing. Counters: {@code duplicates_removed}, and {@code
 * duplicates_conflicting} for copies whose content differs from the first (a producer bug; they are
 * removed all the same).
 *
 * <pre>{@code
 * PCollection<Event> unique = events.apply("DeduplicateEvents",
 *     Events.deduplicate().withHorizon(Duration.standardHours(1)));
 * }</pre>
 */
public final class DeduplicateEvents extends PTransform<PCollection<Event>, PCollection<Event>> {
  public static final Duration DEFAULT_HORIZON = Duration.standardHours(1);

  private final Duration horizon;

  DeduplicateEvents(Duration horizon) {
    this.horizon = horizon;
  }

  /** How long, in event time past an event, copies of it are recognised on unbounded input. */
  public DeduplicateEvents withHorizon(Duration horizon) {
    Objects.requireNonNull(horizon, "horizon");
    if (horizon.getMillis() <= 0) {
      throw new IllegalArgumentException(
          "de-duplication horizon must be positive, got " + horizon + "; use e.g. PT1H");
    }
    return new DeduplicateEvents(horizon);
  }

  public Duration horizon() {
    return horizon;
  }

  @Override
  public PCollection<Event> expand(PCollection<Event> input) {
    if (input.isBounded() == PCollection.IsBounded.BOUNDED) {
      // Batch: group by a hash bucket of the event_id, not by the event_id itself, so that each
      // group holds many events (runners pay a fixed cost per group); the group keeps its
      // earliest timestamp so every event can keep its own event time.
      return input
          .apply("BucketByEventId", ParDo.of(new BucketFn(BATCH_BUCKETS)))
          .setCoder(KvCoder.of(VarIntCoder.of(), EventCoder.of()))
          .apply(
              "EarliestTimestamp",
              Window.<KV<Integer, Event>>configure()
                  .withTimestampCombiner(TimestampCombiner.EARLIEST))
          .apply("GroupBuckets", GroupByKey.create())
          .apply("KeepOneCopy", ParDo.of(new OneCopyFn()))
          .setCoder(EventCoder.of());
    }
    PCollection<KV<String, Event>> keyed =
        input
            .apply(
                "KeyByEventId",
                MapElements.into(
                        TypeDescriptors.kvs(TypeDescriptors.strings(), input.getTypeDescriptor()))
                    .via((Event e) -> KV.of(e.eventId(), e)))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), EventCoder.of()));
    return keyed
        .apply("KeepFirstCopy", ParDo.of(new FirstCopyFn(horizon)))
        .setCoder(EventCoder.of());
  }

  /** Hash buckets of the batch de-duplication: enough parallelism, many events per group. */
  static final int BATCH_BUCKETS = 256;

  static final class BucketFn extends DoFn<Event, KV<Integer, Event>> {
    private final int buckets;

    BucketFn(int buckets) {
      this.buckets = buckets;
    }

    @ProcessElement
    public void process(@Element Event e, OutputReceiver<KV<Integer, Event>> out) {
      out.output(KV.of(Math.floorMod(e.eventId().hashCode(), buckets), e));
    }
  }

  /**
   * Bounded input: all events of one hash bucket at once; per event_id keeps the copy with the
   * earliest event time (ties broken by content, so the choice is deterministic; exact re-sends are
   * identical anyway).
   */
  static final class OneCopyFn extends DoFn<KV<Integer, Iterable<Event>>, Event> {
    private final Counter duplicates =
        Metrics.counter(CounterNames.NAMESPACE, CounterNames.DUPLICATES_REMOVED);
    private final Counter conflicting =
        Metrics.counter(CounterNames.NAMESPACE, CounterNames.DUPLICATES_CONFLICTING);

    @ProcessElement
    public void process(@Element KV<Integer, Iterable<Event>> bucket, OutputReceiver<Event> out) {
      Map<String, Event> kept = new HashMap<>();
      Map<String, Integer> copies = new HashMap<>();
      long removed = 0;
      for (Event e : bucket.getValue()) {
        copies.merge(e.eventId(), 1, Integer::sum);
        Event current = kept.get(e.eventId());
        if (current == null) {
          kept.put(e.eventId(), e);
          continue;
        }
        removed++;
        if (e.timestampMillis() < current.timestampMillis()
            || e.timestampMillis() == current.timestampMillis()
                && e.toString().compareTo(current.toString()) < 0) {
          kept.put(e.eventId(), e);
        }
      }
      if (removed > 0) {
        duplicates.inc(removed);
        for (Event e : bucket.getValue()) {
          if (copies.get(e.eventId()) > 1 && !e.equals(kept.get(e.eventId()))) {
            conflicting.inc();
          }
        }
      }
      for (Event e : kept.values()) {
        out.outputWithTimestamp(e, new Instant(e.timestampMillis()));
      }
    }
  }

  /** Keeps the first copy per key; remembers a content hash to spot conflicting copies. */
  static final class FirstCopyFn extends DoFn<KV<String, Event>, Event> {
    private final Duration horizon;
    private final Counter duplicates =
        Metrics.counter(CounterNames.NAMESPACE, CounterNames.DUPLICATES_REMOVED);
    private final Counter conflicting =
        Metrics.counter(CounterNames.NAMESPACE, CounterNames.DUPLICATES_CONFLICTING);

    @StateId("seen")
    private final StateSpec<ValueState<Integer>> seenSpec = StateSpecs.value(VarIntCoder.of());

    @TimerId("forget")
    private final TimerSpec forgetSpec = TimerSpecs.timer(TimeDomain.EVENT_TIME);

    FirstCopyFn(Duration horizon) {
      this.horizon = horizon;
    }

    @ProcessElement
    public void process(
        @Element KV<String, Event> element,
        @StateId("seen") ValueState<Integer> seen,
        @TimerId("forget") Timer forget,
        OutputReceiver<Event> out) {
      Event event = element.getValue();
      Integer firstHash = seen.read();
      if (firstHash != null) {
        duplicates.inc();
        if (firstHash != event.hashCode()) {
          conflicting.inc();
        }
        return;
      }
      seen.write(event.hashCode());
      if (horizon != null) {
        forget.withNoOutputTimestamp().set(new Instant(event.timestampMillis()).plus(horizon));
      }
      out.output(event);
    }

    @OnTimer("forget")
    public void onForget(@StateId("seen") ValueState<Integer> seen) {
      seen.clear();
    }
  }
}
