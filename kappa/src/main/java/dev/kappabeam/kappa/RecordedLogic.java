package dev.kappabeam.kappa;

import dev.kappabeam.pipelines.options.EventTimeOptions;
import java.util.ArrayList;
import java.util.List;

/**
 * The logic a version was built with, as its registry row keeps it ({@code job_args}: Beam flags in
 * one string), so that a resumed version is rebuilt with exactly that logic.
 */
public final class RecordedLogic {
  private RecordedLogic() {}

  /** The recorded form of the logic set on {@code o}. */
  public static String of(EventTimeOptions o) {
    List<String> args = new ArrayList<>();
    args.add("--maxOutOfOrderness=" + o.getMaxOutOfOrderness());
    args.add("--allowedLateness=" + o.getAllowedLateness());
    if (o.getEarlyFiringInterval() != null && !o.getEarlyFiringInterval().isBlank()) {
      args.add("--earlyFiringInterval=" + o.getEarlyFiringInterval());
    }
    args.add("--dedupHorizon=" + o.getDedupHorizon());
    args.add("--sessionGap=" + o.getSessionGap());
    args.add("--excludeTypes=" + (o.getExcludeTypes() == null ? "" : o.getExcludeTypes()));
    return String.join(" ", args);
  }

  /**
   * Sets the logic recorded as {@code jobArgs} on {@code o}; what the record leaves out (no early
   * firings) is unset.
   *
   * @throws IllegalArgumentException for a flag that is not a logic flag
   */
  public static void applyTo(String jobArgs, EventTimeOptions o) {
    o.setEarlyFiringInterval(null);
    for (String a : jobArgs.trim().split(" ")) {
      int eq = a.indexOf('=');
      if (!a.startsWith("--") || eq < 0) {
        continue;
      }
      String value = a.substring(eq + 1);
      switch (a.substring(2, eq)) {
        case "maxOutOfOrderness" -> o.setMaxOutOfOrderness(value);
        case "allowedLateness" -> o.setAllowedLateness(value);
        case "earlyFiringInterval" -> o.setEarlyFiringInterval(value);
        case "dedupHorizon" -> o.setDedupHorizon(value);
        case "sessionGap" -> o.setSessionGap(value);
        case "excludeTypes" -> o.setExcludeTypes(value);
        default -> throw new IllegalArgumentException("unknown recorded logic flag " + a);
      }
    }
  }
}
