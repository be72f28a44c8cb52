package dev.kappabeam.transforms.events;

import dev.kappabeam.transforms.CounterNames;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.state.MapState;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.state.Timer;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * The streaming de-duplication of one hash bucket of event_ids, as a building block for a stateful
 * {@code DoFn} keyed by {@link #bucketOf}: the {@code DoFn} declares the state cells and the timer
 * ({@link #seenSpec}, {@link #sweepAtSpec}, one event-time timer) and hands them to {@link
 * #firstCopy} per event and to {@link #sweep} when the timer fires.
 *
 * <p>Per bucket: a map from each id seen to its first copy's content hash and the end of its sweep
 * slot (the end of the slot holding the first copy's event time plus the horizon; a slot is {@value
 * #SWEEP_SLOTS_PER_HORIZON}th of the horizon), and the earliest slot end. The first copy passes;
 * later copies are counted as duplicates (and as conflicting when their content differs). One
 * event-time timer per bucket, at its earliest slot end, forgets the ids due by then. Per event:
 * one map access, the earliest slot end read, and the timer moved only when the event's slot ends
 * before every other of the bucket. Counters ({@code duplicates_removed}, {@code
 * duplicates_conflicting}) are added once per bundle ({@link #flushCounters}).
 */
public final class StreamDedup implements Serializable {
  private static final long serialVersionUID = 1L;

  /** {@link #BUCKETS} = 2^this. */
  private static final int BUCKET_BITS = 10;

  /** Hash buckets of the streaming de-duplication: far more than any parallelism. */
  public static final int BUCKETS = 1 << BUCKET_BITS;

  /**
   * Parts of the horizon at which a bucket's expired ids are swept: an id is forgotten once the
   * watermark passes the end of the sweep slot holding its first copy's event time plus the
   * horizon, so at most a sixteenth of the horizon after the horizon itself.
   */
  public static final int SWEEP_SLOTS_PER_HORIZON = 16;

  private final long horizon;
  private final long slot;
  private final Counter duplicates =
      Metrics.counter(CounterNames.NAMESPACE, CounterNames.DUPLICATES_REMOVED);
  private final Counter conflicting =
      Metrics.counter(CounterNames.NAMESPACE, CounterNames.DUPLICATES_CONFLICTING);
  private transient long removed;
  private transient long conflicts;

  public StreamDedup(Duration horizon) {
    this.horizon = horizon.getMillis();
    this.slot = Math.max(1, this.horizon / SWEEP_SLOTS_PER_HORIZON);
  }

  /**
   * The bucket of an id: the top 10 bits of its hash times the golden-ratio constant, not the low
   * bits of the hash itself. The bucket's map of ids hashes the same {@code String.hashCode}; with
   * {@code hashCode % 1024} every id of a bucket shared its low 10 bits, so Flink's heap map of a
   * bucket clustered them into few slots and turned them into trees (a tenth of the drained
   * replay's CPU in map lookups). Changing this function moves ids between buckets: a job restored
   * from a savepoint of a version with the other function forgets the ids it had seen.
   */
  public static int bucketOf(String eventId) {
    return (eventId.hashCode() * 0x9E3779B9) >>> (32 - BUCKET_BITS);
  }

  public static StateSpec<MapState<String, FirstSeen>> seenSpec() {
    return StateSpecs.map(StringUtf8Coder.of(), FirstSeen.CODER);
  }

  public static StateSpec<ValueState<Long>> sweepAtSpec() {
    return StateSpecs.value(VarLongCoder.of());
  }

  /**
   * True for the first copy of its id (remembered until its slot is swept), false for a copy (then
   * counted). The sweep timer moves only when the event's slot ends before every other's.
   */
  public boolean firstCopy(
      Event event, MapState<String, FirstSeen> seen, ValueState<Long> sweepAt, Timer sweep) {
    int hash = event.hashCode();
    long due = slotEnd(event.timestampMillis());
    FirstSeen first = seen.computeIfAbsent(event.eventId(), id -> new FirstSeen(hash, due)).read();
    if (first != null) {
      removed++;
      if (first.hash != hash) {
        conflicts++;
      }
      return false;
    }
    Long at = sweepAt.read();
    if (at == null || due < at) {
      sweep.withNoOutputTimestamp().set(new Instant(due));
      sweepAt.write(due);
    }
    return true;
  }

  /**
   * The sweep timer fired at {@code now}: forgets every id whose slot ended by then, and sets the
   * timer at the earliest slot end left. A sweep reads the bucket's ids once: about {@value
   * #SWEEP_SLOTS_PER_HORIZON} visits per id over its life, against a second map's lookup and update
   * per event when the ids were also kept per slot.
   */
  public static void sweep(
      long now, MapState<String, FirstSeen> seen, ValueState<Long> sweepAt, Timer sweep) {
    long next = Long.MAX_VALUE;
    List<String> done = new ArrayList<>();
    for (Map.Entry<String, FirstSeen> e : seen.entries().read()) {
      long due = e.getValue().due;
      if (due <= now) {
        done.add(e.getKey());
      } else if (due < next) {
        next = due;
      }
    }
    for (String id : done) {
      seen.remove(id);
    }
    if (next == Long.MAX_VALUE) {
      sweepAt.clear();
      return;
    }
    sweep.withNoOutputTimestamp().set(new Instant(next));
    sweepAt.write(next);
  }

  /** Adds the bundle's duplicates to the counters: each increment looks up a thread-local. */
  public void flushCounters() {
    if (removed > 0) {
      duplicates.inc(removed);
      removed = 0;
    }
    if (conflicts > 0) {
      conflicting.inc(conflicts);
      conflicts = 0;
    }
  }

  /**
   * When the ids whose first copy has event time {@code eventTime} are forgotten: the end of the
   * sweep slot holding {@code eventTime} plus the horizon (at most the end of the global window).
   */
  private long slotEnd(long eventTime) {
    long max = GlobalWindow.INSTANCE.maxTimestamp().getMillis();
    if (eventTime >= max - horizon - slot) {
      return max;
    }
    long t = eventTime + horizon;
    return Math.floorDiv(t + slot - 1, slot) * slot;
  }

  /**
   * What a bucket remembers of an id: its first copy's content hash (to count a copy with other
   * content as conflicting) and when the id is forgotten (the end of its sweep slot). Immutable.
   */
  public static final class FirstSeen {
    static final Coder<FirstSeen> CODER = new FirstSeenCoder();

    final int hash;
    final long due;

    FirstSeen(int hash, long due) {
      this.hash = hash;
      this.due = due;
    }
  }

  private static final class FirstSeenCoder extends AtomicCoder<FirstSeen> {
    @Override
    public void encode(FirstSeen value, OutputStream out) throws IOException {
      VarIntCoder.of().encode(value.hash, out);
      VarLongCoder.of().encode(value.due, out);
    }

    @Override
    public FirstSeen decode(InputStream in) throws IOException {
      return new FirstSeen(VarIntCoder.of().decode(in), VarLongCoder.of().decode(in));
    }

    @Override
    public void verifyDeterministic() {}
  }
}
