package dev.kappabeam.transforms.views;

import dev.kappabeam.transforms.LogicDefaults;
import dev.kappabeam.transforms.events.DeduplicateEvents;
import dev.kappabeam.transforms.events.EventType;
import dev.kappabeam.transforms.time.SplitLateEvents;
import java.io.Serializable;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.joda.time.Duration;

/**
 * The logic parameters of the reference views: everything that changes the answer. Two runs with
 * equal parameters over the same log must give the same views; {@link #fingerprint()} names them.
 * Immutable; {@code withX} returns a copy and rejects invalid values with a message.
 */
public final class ViewParameters implements Serializable {
  public static final Duration DEFAULT_SESSION_GAP =
      LogicDefaults.duration(LogicDefaults.SESSION_GAP);

  private final Duration allowedLateness;
  private final @Nullable Duration earlyFiringInterval;
  private final Duration dedupHorizon;
  private final Duration sessionGap;
  private final Set<EventType> excludedTypes;

  private ViewParameters(
      Duration allowedLateness,
      @Nullable Duration earlyFiringInterval,
      Duration dedupHorizon,
      Duration sessionGap,
      Set<EventType> excludedTypes) {
    this.allowedLateness = allowedLateness;
    this.earlyFiringInterval = earlyFiringInterval;
    this.dedupHorizon = dedupHorizon;
    this.sessionGap = sessionGap;
    this.excludedTypes =
        excludedTypes.isEmpty() ? EnumSet.noneOf(EventType.class) : EnumSet.copyOf(excludedTypes);
  }

  /** Lateness 1 h, no early panes, dedup horizon 1 h, session gap 30 min, no excluded types. */
  public static ViewParameters defaults() {
    return new ViewParameters(
        SplitLateEvents.DEFAULT_LATENESS,
        null,
        DeduplicateEvents.DEFAULT_HORIZON,
        DEFAULT_SESSION_GAP,
        EnumSet.noneOf(EventType.class));
  }

  public ViewParameters withAllowedLateness(Duration d) {
    nonNegative(d, "allowed lateness");
    return new ViewParameters(d, earlyFiringInterval, dedupHorizon, sessionGap, excludedTypes);
  }

  /** Early panes every {@code d} of processing time (streaming only); null for none. */
  public ViewParameters withEarlyFiringInterval(@Nullable Duration d) {
    if (d != null) {
      positive(d, "early firing interval");
    }
    return new ViewParameters(allowedLateness, d, dedupHorizon, sessionGap, excludedTypes);
  }

  public ViewParameters withDedupHorizon(Duration d) {
    positive(d, "de-duplication horizon");
    return new ViewParameters(allowedLateness, earlyFiringInterval, d, sessionGap, excludedTypes);
  }

  public ViewParameters withSessionGap(Duration d) {
    positive(d, "session gap");
    return new ViewParameters(allowedLateness, earlyFiringInterval, dedupHorizon, d, excludedTypes);
  }

  /** Event types left out of every view (e.g. to drop bot "view" traffic). */
  public ViewParameters withExcludedTypes(Set<EventType> types) {
    Objects.requireNonNull(types, "types");
    return new ViewParameters(
        allowedLateness, earlyFiringInterval, dedupHorizon, sessionGap, types);
  }

  public Duration allowedLateness() {
    return allowedLateness;
  }

  public @Nullable Duration earlyFiringInterval() {
    return earlyFiringInterval;
  }

  public Duration dedupHorizon() {
    return dedupHorizon;
  }

  public Duration sessionGap() {
    return sessionGap;
  }

  public Set<EventType> excludedTypes() {
    return java.util.Collections.unmodifiableSet(excludedTypes);
  }

  /**
   * A stable, human-readable summary of the parameters that change the answer (early panes do not
   * change the final view and are left out).
   */
  public String fingerprint() {
    return "lateness="
        + allowedLateness
        + ";dedup="
        + dedupHorizon
        + ";gap="
        + sessionGap
        + ";exclude="
        + excludedTypes.stream().map(EventType::json).sorted().collect(Collectors.joining(","));
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (!(o instanceof ViewParameters)) {
      return false;
    }
    ViewParameters p = (ViewParameters) o;
    return allowedLateness.equals(p.allowedLateness)
        && Objects.equals(earlyFiringInterval, p.earlyFiringInterval)
        && dedupHorizon.equals(p.dedupHorizon)
        && sessionGap.equals(p.sessionGap)
        && excludedTypes.equals(p.excludedTypes);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        allowedLateness, earlyFiringInterval, dedupHorizon, sessionGap, excludedTypes);
  }

  @Override
  public String toString() {
    return "ViewParameters{" + fingerprint() + ";early=" + earlyFiringInterval + "}";
  }

  private static void positive(Duration d, String what) {
    Objects.requireNonNull(d, what);
    if (d.getMillis() <= 0) {
      throw new IllegalArgumentException(what + " must be positive, got " + d);
    }
  }

  private static void nonNegative(Duration d, String what) {
    Objects.requireNonNull(d, what);
    if (d.getMillis() < 0) {
      throw new IllegalArgumentException(what + " must be >= 0, got " + d);
    }
  }
}
