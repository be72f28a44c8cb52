package dev.kappabeam.transforms;

/**
 * Names of the Beam counters every kappa-beam pipeline reports, all in namespace {@link
 * #NAMESPACE}. Nothing is lost: {@code read = accepted + dead_lettered + duplicates_removed +
 * late}, where {@code accepted} counts the events that reached the views.
 */
public final class CounterNames {
  public static final String NAMESPACE = "kappa-beam";

  /** Records that entered {@code ParseEvents}. */
  public static final String READ = "read";

  /** Records that parsed and validated (before de-duplication). */
  public static final String PARSED = "parsed";

  /** Records sent to the dead-letter output. */
  public static final String DEAD_LETTERED = "dead_lettered";

  /** Valid records dropped because their event_id was already seen. */
  public static final String DUPLICATES_REMOVED = "duplicates_removed";

  /** Duplicates whose content differed from the first copy (a producer bug; still removed). */
  public static final String DUPLICATES_CONFLICTING = "duplicates_conflicting";

  /**
   * A Lambda speed run counted an event whose copy before the cutoff (counted by the batch) it read
   * only afterwards: copies in different partitions. The merged view counts that event twice until
   * the next batch run moves the cutoff past it.
   */
  public static final String DUPLICATES_MISSED_AT_CUTOFF = "duplicates_missed_at_cutoff";

  /**
   * Records before a Lambda cutoff that a speed run read only to prime its de-duplication (not in
   * {@code read}: the batch run counted them).
   */
  public static final String PRIMED = "primed";

  /** Events later than the allowed lateness, sent to the late output. */
  public static final String LATE = "late";

  /**
   * Partial aggregates whose count or sum saturated at {@code Long.MAX_VALUE} instead of
   * overflowing (a diagnostic outside the invariant; a saturated (window, key) may be counted more
   * than once across bundles and retries).
   */
  public static final String SUMS_SATURATED = "sums_saturated";

  /** Events that reached the views. */
  public static final String ACCEPTED = "accepted";

  private CounterNames() {}
}
