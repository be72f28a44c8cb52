package dev.kappabeam.transforms.views;

import dev.kappabeam.transforms.events.Event;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Mergeable partial aggregate of {@code item_revenue_hourly} for one (window, item): purchase count
 * and revenue. Partials merge by adding; the count and the sum saturate at {@link Sums#SATURATED}
 * instead of overflowing.
 */
public final class ItemStats implements Serializable, SaturatingCombineFn.Accumulator<ItemStats> {
  long purchases;
  long revenueCents;

  public ItemStats() {}

  ItemStats(long purchases, long revenueCents) {
    this.purchases = purchases;
    this.revenueCents = revenueCents;
  }

  public long purchases() {
    return purchases;
  }

  public long revenueCents() {
    return revenueCents;
  }

  @Override
  public ItemStats add(Event e) {
    purchases = Sums.add(purchases, 1);
    revenueCents = Sums.add(revenueCents, e.revenueCents());
    return this;
  }

  @Override
  public ItemStats merge(ItemStats other) {
    purchases = Sums.add(purchases, other.purchases);
    revenueCents = Sums.add(revenueCents, other.revenueCents);
    return this;
  }

  /** Whether a count or sum reached {@link Sums#SATURATED}. */
  @Override
  public boolean isSaturated() {
    return purchases == Sums.SATURATED || revenueCents == Sums.SATURATED;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof ItemStats
        && ((ItemStats) o).purchases == purchases
        && ((ItemStats) o).revenueCents == revenueCents;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(purchases) * 31 + Long.hashCode(revenueCents);
  }

  @Override
  public String toString() {
    return "ItemStats{purchases=" + purchases + ", revenue=" + revenueCents + "}";
  }

  /**
   * Combines purchase events into {@link ItemStats}; counts {@code sums_saturated} when a partial
   * saturates.
   */
  public static final class Fn extends SaturatingCombineFn<ItemStats> {
    @Override
    protected ItemStats empty() {
      return new ItemStats();
    }

    @Override
    protected Coder<ItemStats> coder() {
      return StatsCoder.INSTANCE;
    }
  }

  public static final class StatsCoder extends AtomicCoder<ItemStats> {
    static final StatsCoder INSTANCE = new StatsCoder();

    public static StatsCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(ItemStats s, OutputStream out) throws IOException {
      VarLongCoder.of().encode(s.purchases, out);
      VarLongCoder.of().encode(s.revenueCents, out);
    }

    @Override
    public ItemStats decode(InputStream in) throws IOException {
      return new ItemStats(VarLongCoder.of().decode(in), VarLongCoder.of().decode(in));
    }

    @Override
    public void verifyDeterministic() {}
  }
}
