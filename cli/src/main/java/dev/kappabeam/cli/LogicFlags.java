package dev.kappabeam.cli;

import dev.kappabeam.pipelines.KappaBeamPipeline;
import dev.kappabeam.pipelines.options.EventTimeOptions;
import dev.kappabeam.transforms.LogicDefaults;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * The logic flags, everything that changes the answer, declared once for {@code kb run}, {@code kb
 * reprocess}, {@code kb batch} and {@code kb speed} (a picocli mixin), with the defaults of {@link
 * LogicDefaults}. They reach the pipeline through {@link #applyTo}, the typed setters of its
 * options; a version's registry row keeps them as Beam flags ({@link
 * dev.kappabeam.kappa.RecordedLogic}), which is how a resumed reprocess gets them back.
 */
final class LogicFlags {
  /** The flags, as a user types them. */
  static final List<String> NAMES =
      List.of(
          "--max-out-of-orderness",
          "--allowed-lateness",
          "--early-firing-interval",
          "--dedup-horizon",
          "--session-gap",
          "--exclude-types");

  @Option(
      names = "--max-out-of-orderness",
      defaultValue = LogicDefaults.MAX_OUT_OF_ORDERNESS,
      description = "Watermark bound of streaming runs (default ${DEFAULT-VALUE}).")
  String maxOutOfOrderness = LogicDefaults.MAX_OUT_OF_ORDERNESS;

  @Option(
      names = "--allowed-lateness",
      defaultValue = LogicDefaults.ALLOWED_LATENESS,
      description = "Allowed lateness (default ${DEFAULT-VALUE}).")
  String allowedLateness = LogicDefaults.ALLOWED_LATENESS;

  @Option(
      names = "--early-firing-interval",
      description = "Early panes every this much processing time (streaming runs).")
  String earlyFiringInterval;

  @Option(
      names = "--dedup-horizon",
      defaultValue = LogicDefaults.DEDUP_HORIZON,
      description = "Streaming dedup horizon (default ${DEFAULT-VALUE}).")
  String dedupHorizon = LogicDefaults.DEDUP_HORIZON;

  @Option(
      names = "--session-gap",
      defaultValue = LogicDefaults.SESSION_GAP,
      description = "Session gap (default ${DEFAULT-VALUE}).")
  String sessionGap = LogicDefaults.SESSION_GAP;

  @Option(
      names = "--exclude-types",
      defaultValue = LogicDefaults.EXCLUDE_TYPES,
      description = "Event types left out of the views.")
  String excludeTypes = LogicDefaults.EXCLUDE_TYPES;

  /** Whether the command line of {@code spec} set any logic flag. */
  static boolean anyGiven(CommandSpec spec) {
    return NAMES.stream().anyMatch(n -> spec.commandLine().getParseResult().hasMatchedOption(n));
  }

  /** Sets them on the pipeline's options. */
  void applyTo(EventTimeOptions o) {
    o.setMaxOutOfOrderness(maxOutOfOrderness);
    o.setAllowedLateness(allowedLateness);
    o.setEarlyFiringInterval(earlyFiringInterval);
    o.setDedupHorizon(dedupHorizon);
    o.setSessionGap(sessionGap);
    o.setExcludeTypes(excludeTypes == null ? "" : excludeTypes);
  }

  long sessionGapMillis() {
    return KappaBeamPipeline.duration(sessionGap, "--session-gap").getMillis();
  }
}
