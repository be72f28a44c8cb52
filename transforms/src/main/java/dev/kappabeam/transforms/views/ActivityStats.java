package dev.kappabeam.transforms.views;

import dev.kappabeam.transforms.events.Event;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Mergeable partial aggregate of {@code activity_per_minute} for one (window, type): event count,
 * the exact set of users, and purchase revenue. Partials merge by adding counts and sums and taking
 * the union of user sets, so a batch partial and a speed partial give the exact answer. Counts and
 * sums saturate at {@link Sums#SATURATED} instead of overflowing.
 */
public final class ActivityStats
    implements Serializable, SaturatingCombineFn.Accumulator<ActivityStats> {
  long events;
  final Set<String> users;
  long revenueCents;

  public ActivityStats() {
    this(0, new HashSet<>(), 0);
  }

  ActivityStats(long events, Set<String> users, long revenueCents) {
    this.events = events;
    this.users = users;
    this.revenueCents = revenueCents;
  }

  public long events() {
    return events;
  }

  public long distinctUsers() {
    return users.size();
  }

  public Set<String> users() {
    return java.util.Collections.unmodifiableSet(users);
  }

  public long revenueCents() {
    return revenueCents;
  }

  @Override
  public ActivityStats add(Event e) {
    events = Sums.add(events, 1);
    users.add(e.userId());
    revenueCents = Sums.add(revenueCents, e.revenueCents());
    return this;
  }

  @Override
  public ActivityStats merge(ActivityStats other) {
    events = Sums.add(events, other.events);
    users.addAll(other.users);
    revenueCents = Sums.add(revenueCents, other.revenueCents);
    return this;
  }

  /** Whether a count or sum reached {@link Sums#SATURATED}. */
  @Override
  public boolean isSaturated() {
    return events == Sums.SATURATED || revenueCents == Sums.SATURATED;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (!(o instanceof ActivityStats)) {
      return false;
    }
    ActivityStats s = (ActivityStats) o;
    return events == s.events && revenueCents == s.revenueCents && users.equals(s.users);
  }

  @Override
  public int hashCode() {
    return Objects.hash(events, users, revenueCents);
  }

  @Override
  public String toString() {
    return "ActivityStats{events="
        + events
        + ", users="
        + users.size()
        + ", revenue="
        + revenueCents
        + "}";
  }

  /**
   * Combines events into {@link ActivityStats}; counts {@code sums_saturated} when a partial
   * saturates.
   */
  public static final class Fn extends SaturatingCombineFn<ActivityStats> {
    @Override
    protected ActivityStats empty() {
      return new ActivityStats();
    }

    @Override
    protected Coder<ActivityStats> coder() {
      return StatsCoder.INSTANCE;
    }
  }

  /** Users are written sorted, so equal stats encode equally. */
  public static final class StatsCoder extends AtomicCoder<ActivityStats> {
    static final StatsCoder INSTANCE = new StatsCoder();

    public static StatsCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(ActivityStats s, OutputStream out) throws IOException {
      VarLongCoder.of().encode(s.events, out);
      VarLongCoder.of().encode(s.revenueCents, out);
      VarIntCoder.of().encode(s.users.size(), out);
      for (String u : s.users) {
        StringUtf8Coder.of().encode(u, out);
      }
    }

    @Override
    public ActivityStats decode(InputStream in) throws IOException {
      long events = VarLongCoder.of().decode(in);
      long revenue = VarLongCoder.of().decode(in);
      int n = VarIntCoder.of().decode(in);
      Set<String> users = new HashSet<>(Math.max(16, n * 2));
      for (int i = 0; i < n; i++) {
        users.add(StringUtf8Coder.of().decode(in));
      }
      return new ActivityStats(events, users, revenue);
    }

    /**
     * Not deterministic: the users are written in the set's order (sorting them cost a tenth of a
     * bounded replay's CPU). Fine for accumulators and partials, which are never grouped by.
     */
    @Override
    public void verifyDeterministic() throws NonDeterministicException {
      throw new NonDeterministicException(this, "the user set is written in hash order");
    }
  }
}
