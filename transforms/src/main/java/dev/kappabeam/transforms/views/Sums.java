package dev.kappabeam.transforms.views;

/**
 * Saturating arithmetic for the counts and sums of the views: a sum that would pass {@link
 * Long#MAX_VALUE} stays at {@link #SATURATED}, which then reads "at least this much", instead of
 * failing the run ({@code Math.addExact}) or wrapping to a negative number. {@code EventParser}
 * caps each amount so that this needs more than 92 million maximal purchases in one window and key;
 * the view combiners count each saturation in the {@code sums_saturated} counter.
 */
public final class Sums {
  /** The value of a saturated count or sum. */
  public static final long SATURATED = Long.MAX_VALUE;

  private Sums() {}

  /** {@code a + b} for non-negative operands, or {@link #SATURATED} if that would overflow. */
  public static long add(long a, long b) {
    long sum = a + b;
    return ((a ^ sum) & (b ^ sum)) < 0 ? SATURATED : sum;
  }
}
