package dev.kappabeam.serving;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * When a streaming job building a new version has caught up with the log: the one rule shared by
 * {@code kb reprocess} (Kappa, before the cutover) and {@code kb speed} (Lambda, before the
 * rebase), on every runner. A controller feeds it one {@link Observation} per tick.
 *
 * <p>A tick is <b>steady</b> when
 *
 * <ol>
 *   <li>the job has read every partition up to the end offsets seen at the first tick (the backlog
 *       when it was launched);
 *   <li>it keeps up: at most {@code maxLag} records of what existed at the previous tick are still
 *       unread; and
 *   <li>its output settled: if the log did not grow since the previous tick, the version's table
 *       did not change either (windows fire at the watermark, so once the reads stop, the last
 *       panes land and the table stops moving). While the log keeps growing, the table is expected
 *       to move with it.
 * </ol>
 *
 * The job is <b>caught up</b> once ticks have been steady without a break for {@code hold}.
 *
 * <p>What the job has read comes from what it reports itself ({@link ReadProgress}, live on every
 * runner) and from its consumer group's committed offsets, whichever is further: KafkaIO commits
 * the consumer's position, which also steps over transaction markers that no record carries.
 * Committed offsets alone are not enough: DirectRunner commits a checkpoint only when a later one
 * is finalized, and Flink commits only when checkpointing is on.
 *
 * <pre>{@code
 * CatchUp rule = CatchUp.of(startOffsets, 0, Duration.ofSeconds(10));
 * CatchUp.Verdict v = rule.observe(new CatchUp.Observation(now, end, read, committed, table));
 * if (v.caughtUp()) cutover();
 * }</pre>
 */
public final class CatchUp {
  private final Map<Integer, Long> start;
  private final long maxLag;
  private final Duration hold;
  private Map<Integer, Long> target;
  private Observation previous;
  private Instant steadySince;

  private CatchUp(Map<Integer, Long> start, long maxLag, Duration hold) {
    this.start = Map.copyOf(start);
    this.maxLag = maxLag;
    this.hold = hold;
  }

  /**
   * A rule for a job that started reading each partition at {@code start} (its first offset).
   *
   * @param maxLag records of the previous tick's log that may still be unread, at least 0
   * @param hold how long the ticks must stay steady, not negative
   */
  public static CatchUp of(Map<Integer, Long> start, long maxLag, Duration hold) {
    Objects.requireNonNull(start, "start");
    if (maxLag < 0) {
      throw new IllegalArgumentException("maxLag must not be negative, got " + maxLag);
    }
    if (hold.isNegative()) {
      throw new IllegalArgumentException("hold must not be negative, got " + hold);
    }
    return new CatchUp(start, maxLag, hold);
  }

  /**
   * What a controller saw at one tick.
   *
   * @param at when
   * @param end the topic's end offsets by partition
   * @param read one past the highest offset the job reported reading, by partition (absent: none)
   * @param committed the job's consumer group's committed offsets (absent: none)
   * @param table anything that changes when the version's table changes (row count, a sum, ...)
   */
  public record Observation(
      Instant at,
      Map<Integer, Long> end,
      Map<Integer, Long> read,
      Map<Integer, Long> committed,
      Object table) {
    /** Checks the fields. */
    public Observation {
      Objects.requireNonNull(at, "at");
      end = Map.copyOf(end);
      read = Map.copyOf(read);
      committed = Map.copyOf(committed);
    }
  }

  /**
   * The rule's reading of one tick.
   *
   * @param position how far the job has read, by partition (the further of read and committed)
   * @param remaining records still to read against the current end offsets, by partition
   * @param read records read since the start, summed
   * @param steady whether this tick was steady
   * @param steadyFor how long the ticks have been steady (zero when this one is not)
   * @param caughtUp whether the job has caught up
   */
  public record Verdict(
      Map<Integer, Long> position,
      Map<Integer, Long> remaining,
      long read,
      boolean steady,
      Duration steadyFor,
      boolean caughtUp) {
    /** Records still to read, summed over partitions. */
    public long remainingTotal() {
      return remaining.values().stream().mapToLong(Long::longValue).sum();
    }
  }

  /** Takes one tick's observation into account and says where the job stands. */
  public Verdict observe(Observation o) {
    if (target == null) {
      target = o.end();
    }
    Map<Integer, Long> position = new TreeMap<>();
    Map<Integer, Long> remaining = new TreeMap<>();
    long read = 0;
    boolean backlogRead = true;
    long unreadOfPrevious = 0;
    for (Map.Entry<Integer, Long> e : new TreeMap<>(o.end()).entrySet()) {
      int p = e.getKey();
      long from = start.getOrDefault(p, 0L);
      long at =
          Math.max(
              from, Math.max(o.read().getOrDefault(p, from), o.committed().getOrDefault(p, from)));
      position.put(p, at);
      remaining.put(p, Math.max(0, e.getValue() - at));
      read += at - from;
      backlogRead &= at >= target.getOrDefault(p, 0L);
      long previousEnd = previous == null ? e.getValue() : previous.end().getOrDefault(p, 0L);
      unreadOfPrevious += Math.max(0, previousEnd - at);
    }
    boolean logGrew = previous != null && !o.end().equals(previous.end());
    boolean settled = previous != null && (logGrew || Objects.equals(o.table(), previous.table()));
    boolean steady = backlogRead && unreadOfPrevious <= maxLag && settled;
    steadySince = steady ? (steadySince == null ? o.at() : steadySince) : null;
    previous = o;
    Duration steadyFor = steady ? Duration.between(steadySince, o.at()) : Duration.ZERO;
    return new Verdict(
        position, remaining, read, steady, steadyFor, steady && steadyFor.compareTo(hold) >= 0);
  }
}
