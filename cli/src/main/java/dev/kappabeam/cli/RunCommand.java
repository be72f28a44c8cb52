package dev.kappabeam.cli;

import dev.kappabeam.kappa.VersionRun;
import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.pipelines.options.RunMode;
import dev.kappabeam.pipelines.runner.RunnerSupports;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.options.PipelineOptionsValidator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Unmatched;

/**
 * {@code kb run}: builds the reference views of a topic into a view version, in streaming or
 * historical mode, on any runner (standard Beam flags pass through, e.g. {@code
 * --runner=FlinkRunner}). Prints progress while it runs and the counters when it ends, and checks
 * that they add up.
 */
@Command(
    name = "run",
    description = {
      "Run the reference pipeline over a topic into a view version.",
      "Unknown --flags are passed to Beam (e.g. --runner=DirectRunner, --targetParallelism=2)."
    })
final class RunCommand implements Runnable {
  @Mixin HelpOption help;

  @Mixin Connections connections;

  @Mixin OutageGrace outageGrace;

  @Option(
      names = "--mode",
      required = true,
      description = "streaming | historical",
      converter = ModeConverter.class)
  RunMode mode;

  @Option(names = "--topic", required = true, description = "The event-log topic.")
  String topic;

  @Option(names = "--version", required = true, description = "View version to build, e.g. v1.")
  String version;

  @Option(
      names = "--views",
      description = "Comma-separated views (default: all).",
      defaultValue = "")
  String views;

  @Option(
      names = "--drain-when-caught-up",
      description =
          "Streaming: read up to the end offsets at launch, then fire every window, commit the"
              + " offsets and stop.")
  boolean drainWhenCaughtUp;

  @Option(
      names = "--start-from",
      defaultValue = "earliest",
      description = "earliest | latest | ISO-8601 instant (default ${DEFAULT-VALUE}).")
  String startFrom = "earliest";

  @Option(
      names = "--stop-at",
      description = "Historical: ISO-8601 instant to stop at instead of the end offsets at launch.")
  String stopAt;

  @Option(
      names = "--archive",
      paramLabel = "URI",
      description =
          "Historical, or streaming with --drain-when-caught-up: replay from the start of the log"
              + " with the offsets Kafka's retention deleted read from this archive (kb archive),"
              + " Kafka from its first offset on.")
  String archive;

  @Option(
      names = "--resume",
      description =
          "Restart the job of an existing version: its consumer group is rewound to --start-from and"
              + " the log replayed, rebuilding the window state a stopped job loses; the"
              + " idempotent sink makes the replay land exactly.")
  boolean resume;

  @Mixin LogicFlags logic;

  @Option(
      names = "--consumer-group",
      description = "Consumer group (default kappa-beam.<topic>.<version>).")
  String consumerGroup;

  @Unmatched List<String> beamArgs = new ArrayList<>();

  @Override
  public void run() {
    if (!version.matches("[a-z0-9_]+")) {
      throw new IllegalArgumentException(
          "--version must be lower-case letters, digits or _, like v1; got '" + version + "'");
    }
    for (String a : beamArgs) {
      if (!a.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument '" + a + "'; see kb run --help");
      }
    }
    new VersionRun(new VersionRun.Request(options(), startFrom, null, resume), PRINTER).run();
  }

  /** How kb prints a run: progress on stderr, the counters of a finished run on stdout. */
  static final VersionRun.Listener PRINTER = new Printer();

  private static final class Printer implements VersionRun.Listener {
    @Override
    public void info(String line) {
      System.err.println(line);
    }

    @Override
    public void finished(Map<String, Long> counters) {
      System.out.println(summary(counters));
    }
  }

  /**
   * The Beam flags given, plus DirectRunner by default and {@code --blockOnRun=false} on it (kb
   * waits itself, printing progress). The runner's own defaults (DirectRunner: one worker thread
   * for streaming runs, see {@code DirectRunnerSupport}) are added where the options are built
   * ({@code RunnerSupports.withDefaults}), as for the pipeline's {@code main} and the tests.
   */
  static List<String> runnerArgs(List<String> beamArgs) {
    List<String> args = new ArrayList<>(beamArgs);
    boolean runnerGiven = args.stream().anyMatch(a -> a.startsWith("--runner"));
    if (!runnerGiven) {
      args.add("--runner=DirectRunner");
    }
    if (RunnerSupports.runnerName(args).equals("DirectRunner")) {
      args.addAll(RunnerSupports.missing(args, List.of("--blockOnRun=false")));
    }
    return args;
  }

  /**
   * The job's options: the Beam flags given (runner and its tuning, plus the runner's defaults for
   * this run's mode, which is all a runner default depends on) parsed as Beam parses them, then
   * kappa-beam's own options set with their typed setters and validated.
   */
  private KappaBeamOptions options() {
    if (stopAt != null && mode != RunMode.HISTORICAL) {
      throw new IllegalArgumentException(
          "--stop-at is for historical runs; streaming runs use --drain-when-caught-up");
    }
    if (drainWhenCaughtUp && mode != RunMode.STREAMING) {
      throw new IllegalArgumentException(
          "--drain-when-caught-up is for streaming runs; a historical run always ends on its own");
    }
    KappaBeamOptions o =
        beamOptions(beamArgs, mode, drainWhenCaughtUp, connections, outageGrace, logic);
    o.setTopic(topic);
    o.setStartFrom(
        mode == RunMode.STREAMING && !drainWhenCaughtUp && isTimestamp(startFrom)
            ? "earliest"
            : startFrom);
    o.setStopAt(stopAt);
    o.setArchive(archive);
    o.setViewVersion(version);
    o.setViews(views);
    o.setConsumerGroup(consumerGroup);
    o.setRunId(java.util.UUID.randomUUID().toString());
    o.setJobName(VersionRun.jobName(topic, version));
    return validated(o);
  }

  /**
   * The options every kb job starts from: {@code beamArgs} (with DirectRunner by default) and the
   * runner's defaults for a run of this mode, parsed by Beam; then the connections, the outage
   * grace and the logic set on them.
   */
  static KappaBeamOptions beamOptions(
      List<String> beamArgs,
      RunMode mode,
      boolean drainWhenCaughtUp,
      Connections connections,
      OutageGrace outageGrace,
      LogicFlags logic) {
    List<String> args = runnerArgs(beamArgs);
    // The run's shape, which the runner's defaults depend on (RunnerSupport.defaultFlags).
    args.add("--mode=" + mode.name());
    args.add("--drainWhenCaughtUp=" + drainWhenCaughtUp);
    KappaBeamOptions o =
        PipelineOptionsFactory.fromArgs(
                RunnerSupports.withDefaults(args, java.util.Optional.of(connections.dataDir()))
                    .toArray(new String[0]))
            .as(KappaBeamOptions.class);
    connections.applyTo(o);
    outageGrace.applyTo(o);
    logic.applyTo(o);
    return o;
  }

  /** {@code o} once Beam's required-option checks passed. */
  static KappaBeamOptions validated(KappaBeamOptions o) {
    PipelineOptionsValidator.validate(KappaBeamOptions.class, o);
    return o;
  }

  private static boolean isTimestamp(String startPoint) {
    return !"earliest".equals(startPoint) && !"latest".equals(startPoint);
  }

  static String summary(Map<String, Long> c) {
    StringBuilder b = new StringBuilder("counters:");
    c.forEach((k, v) -> b.append(' ').append(k).append('=').append(v));
    return b.toString();
  }

  /** Accepts streaming/historical in any case. */
  static final class ModeConverter implements picocli.CommandLine.ITypeConverter<RunMode> {
    @Override
    public RunMode convert(String value) {
      try {
        return RunMode.valueOf(value.toUpperCase(java.util.Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new picocli.CommandLine.TypeConversionException(
            "expected streaming or historical, got '" + value + "'");
      }
    }
  }
}
