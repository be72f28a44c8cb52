package dev.kappabeam.transforms.events;

import dev.kappabeam.transforms.CounterNames;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
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
import org.checkerframework.checker.nullness.qual.Nullable;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * The streaming de-duplication of one hash bucket of event_ids, as a building block for a stateful
 * {@code DoFn} keyed by {@link #bucketOf}: the {@code DoFn} declares the state cells and the timer
 * ({@link #seenSpec}, {@link #slotsSpec}, {@link #sweepAtSpec}, one event-time timer) and hands
 * them to {@link #firstCopy} per event and to {@link #sweep} when the timer fires.
 *
 * <p>Per bucket: a map from each id seen to its first copy's content hash, and the ids again per
 * sweep slot (the end of the slot holding the first copy's event time plus the horizon; a slot is
 * {@value #SWEEP_SLOTS_PER_HORIZON}th of the horizon). The first copy passes; later copies are
 * counted as duplicates (and as conflicting when their content differs). One event-time timer per
 * bucket, at its earliest slot, forgets that slot's ids: a sweep touches only the ids it forgets.
 * Per event: the map access, the slot's list, and the timer only when the event opens a slot
 * earlier than every other of the bucket. Counters ({@code duplicates_removed}, {@code
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

  public static StateSpec<MapState<String, Integer>> seenSpec() {
    return StateSpecs.map(StringUtf8Coder.of(), VarIntCoder.of());
  }

  public static StateSpec<MapState<Long, IdChain>> slotsSpec() {
    return StateSpecs.map(VarLongCoder.of(), IdChain.CODER);
  }

  public static StateSpec<ValueState<Long>> sweepAtSpec() {
    return StateSpecs.value(VarLongCoder.of());
  }

  /**
   * True for the first copy of its id (remembered until its slot is swept), false for a copy (then
   * counted).
   *
   * @param eventId the event's id ({@link EventFormat#id})
   * @param hash its content hash ({@link EventFormat#contentHash})
   * @param timestampMillis its event time
   */
  public boolean firstCopy(
      String eventId,
      int hash,
      long timestampMillis,
      MapState<String, Integer> seen,
      MapState<Long, IdChain> slots,
      ValueState<Long> sweepAt,
      Timer sweep) {
    Integer first = seen.computeIfAbsent(eventId, id -> hash).read();
    if (first != null) {
      removed++;
      if (first != hash) {
        conflicts++;
      }
      return false;
    }
    long due = slotEnd(timestampMillis);
    IdChain ids = slots.get(due).read();
    if (ids == null) {
      Long at = sweepAt.read();
      if (at == null || due < at) {
        sweep.withNoOutputTimestamp().set(new Instant(due));
        sweepAt.write(due);
      }
    }
    slots.put(due, new IdChain(eventId, ids));
    return true;
  }

  /** The sweep timer fired at {@code now}: forgets the ids of every slot due by then. */
  public static void sweep(
      long now,
      MapState<String, Integer> seen,
      MapState<Long, IdChain> slots,
      ValueState<Long> sweepAt,
      Timer sweep) {
    long next = Long.MAX_VALUE;
    List<Long> done = new ArrayList<>();
    for (Long due : slots.keys().read()) {
      if (due <= now) {
        done.add(due);
      } else {
        next = Math.min(next, due);
      }
    }
    for (Long due : done) {
      for (IdChain c = slots.get(due).read(); c != null; c = c.next) {
        seen.remove(c.id);
      }
      slots.remove(due);
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
   * The ids of one sweep slot, newest first, as an immutable chain: an id is added by making a new
   * head, never by changing a stored value, which a checkpoint being written may still be reading
   * (Flink's heap state with {@code --fasterCopy} hands out the stored objects themselves).
   */
  public static final class IdChain {
    static final Coder<IdChain> CODER = new IdChainCoder();

    final String id;
    final @Nullable IdChain next;

    IdChain(String id, @Nullable IdChain next) {
      this.id = id;
      this.next = next;
    }
  }

  /** A chain as its length and its ids, newest first (no recursion, however long). */
  private static final class IdChainCoder extends AtomicCoder<IdChain> {
    @Override
    public void encode(IdChain value, OutputStream out) throws IOException {
      int n = 0;
      for (IdChain c = value; c != null; c = c.next) {
        n++;
      }
      VarIntCoder.of().encode(n, out);
      for (IdChain c = value; c != null; c = c.next) {
        StringUtf8Coder.of().encode(c.id, out);
      }
    }

    @Override
    public IdChain decode(InputStream in) throws IOException {
      int n = VarIntCoder.of().decode(in);
      String[] ids = new String[n];
      for (int i = 0; i < n; i++) {
        ids[i] = StringUtf8Coder.of().decode(in);
      }
      IdChain chain = null;
      for (int i = n - 1; i >= 0; i--) {
        chain = new IdChain(ids[i], chain);
      }
      return chain;
    }

    @Override
    public void verifyDeterministic() {}
  }
}
