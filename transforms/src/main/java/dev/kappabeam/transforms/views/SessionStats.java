package dev.kappabeam.transforms.views;

import dev.kappabeam.transforms.events.Event;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.transforms.Combine;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Mergeable partial aggregate of {@code user_sessions} for one user's session: first and last event
 * time, event and purchase counts. Partials merge by min/max of the times and adding the counts
 * (two partials of one user belong to one session when their gap is under the session gap; see
 * {@link #gapTo}).
 */
public final class SessionStats implements Serializable {
  long first = Long.MAX_VALUE;
  long last = Long.MIN_VALUE;
  long events;
  long purchases;

  public SessionStats() {}

  SessionStats(long first, long last, long events, long purchases) {
    this.first = first;
    this.last = last;
    this.events = events;
    this.purchases = purchases;
  }

  public long firstMillis() {
    return first;
  }

  public long lastMillis() {
    return last;
  }

  public long events() {
    return events;
  }

  public long purchases() {
    return purchases;
  }

  public SessionStats add(Event e) {
    first = Math.min(first, e.timestampMillis());
    last = Math.max(last, e.timestampMillis());
    events = Sums.add(events, 1);
    if (e.isPurchase()) {
      purchases = Sums.add(purchases, 1);
    }
    return this;
  }

  public SessionStats merge(SessionStats other) {
    first = Math.min(first, other.first);
    last = Math.max(last, other.last);
    events = Sums.add(events, other.events);
    purchases = Sums.add(purchases, other.purchases);
    return this;
  }

  /** Milliseconds between the end of the earlier and the start of the later (0 if overlapping). */
  public long gapTo(SessionStats other) {
    return Math.max(0, Math.max(first, other.first) - Math.min(last, other.last));
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (!(o instanceof SessionStats)) {
      return false;
    }
    SessionStats s = (SessionStats) o;
    return first == s.first && last == s.last && events == s.events && purchases == s.purchases;
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(first, last, events, purchases);
  }

  @Override
  public String toString() {
    return "SessionStats{"
        + first
        + ".."
        + last
        + ", events="
        + events
        + ", purchases="
        + purchases
        + "}";
  }

  /** Combines one user's events in one session window into {@link SessionStats}. */
  public static final class Fn extends Combine.CombineFn<Event, SessionStats, SessionStats> {
    @Override
    public SessionStats createAccumulator() {
      return new SessionStats();
    }

    @Override
    public SessionStats addInput(SessionStats acc, Event e) {
      return acc.add(e);
    }

    @Override
    public SessionStats mergeAccumulators(Iterable<SessionStats> accs) {
      SessionStats out = new SessionStats();
      for (SessionStats a : accs) {
        out.merge(a);
      }
      return out;
    }

    @Override
    public SessionStats extractOutput(SessionStats acc) {
      return acc;
    }

    @Override
    public Coder<SessionStats> getAccumulatorCoder(CoderRegistry r, Coder<Event> in) {
      return StatsCoder.INSTANCE;
    }

    @Override
    public Coder<SessionStats> getDefaultOutputCoder(CoderRegistry r, Coder<Event> in) {
      return StatsCoder.INSTANCE;
    }
  }

  public static final class StatsCoder extends AtomicCoder<SessionStats> {
    static final StatsCoder INSTANCE = new StatsCoder();

    public static StatsCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(SessionStats s, OutputStream out) throws IOException {
      // first/last may be the +-infinity sentinels of an empty accumulator: write them raw.
      org.apache.beam.sdk.coders.BigEndianLongCoder.of().encode(s.first, out);
      org.apache.beam.sdk.coders.BigEndianLongCoder.of().encode(s.last, out);
      VarLongCoder.of().encode(s.events, out);
      VarLongCoder.of().encode(s.purchases, out);
    }

    @Override
    public SessionStats decode(InputStream in) throws IOException {
      return new SessionStats(
          org.apache.beam.sdk.coders.BigEndianLongCoder.of().decode(in),
          org.apache.beam.sdk.coders.BigEndianLongCoder.of().decode(in),
          VarLongCoder.of().decode(in),
          VarLongCoder.of().decode(in));
    }

    @Override
    public void verifyDeterministic() {}
  }
}
