package dev.kappabeam.generator;

import dev.kappabeam.generator.GeneratedRecord.Kind;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Counts of a generated workload per {@link Kind} and per {@link MalformedKind}, and the counters a
 * bounded run over it must report.
 *
 * <pre>{@code
 * GenerationSummary sum = GenerationSummary.of(records);
 * assertEquals(sum.expectedDeadLettered(), oracle.deadLettered());
 * }</pre>
 */
public final class GenerationSummary {
  private final long total;
  private final Map<Kind, Long> byKind;
  private final Map<MalformedKind, Long> byMalformedKind;

  private GenerationSummary(
      long total, Map<Kind, Long> byKind, Map<MalformedKind, Long> byMalformedKind) {
    this.total = total;
    this.byKind = Collections.unmodifiableMap(byKind);
    this.byMalformedKind = Collections.unmodifiableMap(byMalformedKind);
  }

  /** Counts the records. */
  public static GenerationSummary of(List<GeneratedRecord> records) {
    Map<Kind, Long> byKind = new EnumMap<>(Kind.class);
    Map<MalformedKind, Long> byMalformed = new EnumMap<>(MalformedKind.class);
    for (Kind k : Kind.values()) {
      byKind.put(k, 0L);
    }
    for (MalformedKind m : MalformedKind.values()) {
      byMalformed.put(m, 0L);
    }
    for (GeneratedRecord r : records) {
      byKind.merge(r.kind(), 1L, Long::sum);
      MalformedKind m = r.malformedKind();
      if (m != null) {
        byMalformed.merge(m, 1L, Long::sum);
      }
    }
    return new GenerationSummary(records.size(), byKind, byMalformed);
  }

  public long total() {
    return total;
  }

  public long count(Kind kind) {
    return byKind.get(kind);
  }

  public long count(MalformedKind kind) {
    return byMalformedKind.get(kind);
  }

  /** The share of all records that are of this kind (0 for an empty workload). */
  public double fraction(Kind kind) {
    return total == 0 ? 0 : (double) count(kind) / total;
  }

  /** Every kind, with zero counts included. */
  public Map<Kind, Long> byKind() {
    return byKind;
  }

  /** Every malformed kind, with zero counts included. */
  public Map<MalformedKind, Long> byMalformedKind() {
    return byMalformedKind;
  }

  /** What a bounded run must count as dead-lettered: the malformed records. */
  public long expectedDeadLettered() {
    return count(Kind.MALFORMED);
  }

  /** What a bounded run must count as duplicates removed. */
  public long expectedDuplicates() {
    return count(Kind.DUPLICATE);
  }

  /** What a bounded run must accept: every original event, however late. */
  public long expectedAccepted() {
    return total - expectedDeadLettered() - expectedDuplicates();
  }

  @Override
  public String toString() {
    return "GenerationSummary{total="
        + total
        + ", "
        + byKind
        + ", malformed="
        + byMalformedKind
        + "}";
  }
}
