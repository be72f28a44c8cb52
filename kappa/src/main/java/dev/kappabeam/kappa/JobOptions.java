package dev.kappabeam.kappa;

import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.pipelines.options.RunMode;

/**
 * Where a lifecycle step gets the options of a job it starts: the caller's runner and its tuning,
 * connections, outage grace and logic, for a run of the given shape (a runner's defaults may depend
 * on it). The step then sets what the job reads and writes (topic, start, bounds, views, version,
 * consumer group) and validates the result.
 */
public interface JobOptions {
  /** New options for a {@code mode} run (streaming: drained when caught up, or open-ended). */
  KappaBeamOptions build(RunMode mode, boolean drainWhenCaughtUp);

  /**
   * Whether the caller chose logic of its own. A resumed version is rebuilt with its recorded logic
   * when not, and refused when the caller's differs from it.
   */
  default boolean logicGiven() {
    return true;
  }
}
