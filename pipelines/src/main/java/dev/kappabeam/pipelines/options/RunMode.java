package dev.kappabeam.pipelines.options;

/** How a run reads the log. */
public enum RunMode {
  /** Unbounded: from committed offsets (or the start point), forever or until drained. */
  STREAMING,
  /** Bounded: from the start point to the end offsets snapshotted at launch; ends on its own. */
  HISTORICAL
}
