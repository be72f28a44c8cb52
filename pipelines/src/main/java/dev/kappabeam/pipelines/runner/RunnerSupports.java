package dev.kappabeam.pipelines.runner;

import dev.kappabeam.pipelines.options.KappaBeamOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * The {@link RunnerSupport}s on the classpath, looked up by the {@code --runner} flag.
 *
 * <pre>{@code
 * List<String> args = RunnerSupports.withDefaults(List.of("--runner=FlinkRunner", ...));
 * KappaBeamOptions o = PipelineOptionsFactory.fromArgs(args.toArray(String[]::new)).as(...);
 * RunnerSupports.check(o); // throws UnsupportedRunException with the reason
 * }</pre>
 */
public final class RunnerSupports {
  private static final String DEFAULT_RUNNER = "DirectRunner";

  private RunnerSupports() {}

  /** The support registered for {@code runnerName} (simple or fully qualified class name). */
  public static Optional<RunnerSupport> find(String runnerName) {
    String simple = runnerName.substring(runnerName.lastIndexOf('.') + 1);
    for (RunnerSupport s :
        ServiceLoader.load(RunnerSupport.class, RunnerSupports.class.getClassLoader())) {
      if (s.runnerName().equals(simple)) {
        return Optional.of(s);
      }
    }
    return Optional.empty();
  }

  /** The runner named by the last {@code --runner=} flag of {@code args}, else DirectRunner. */
  public static String runnerName(List<String> args) {
    String runner = DEFAULT_RUNNER;
    for (String a : args) {
      if (a.startsWith("--runner=")) {
        runner = a.substring("--runner=".length());
      }
    }
    return runner.substring(runner.lastIndexOf('.') + 1);
  }

  /**
   * Returns {@code args} followed by every default flag of the selected runner whose option {@code
   * args} does not set (neither as {@code --name=value} nor as a bare {@code --name}).
   */
  public static List<String> withDefaults(List<String> args) {
    return withDefaults(args, Optional.empty());
  }

  /**
   * {@link #withDefaults(List)} for a caller with a local data directory, where a runner may keep a
   * local run's files (Flink's checkpoints of an open-ended streaming job).
   */
  public static List<String> withDefaults(List<String> args, Optional<Path> localDataDir) {
    List<String> out = new ArrayList<>(args);
    find(runnerName(args))
        .ifPresent(s -> out.addAll(missing(args, s.defaultFlags(args, localDataDir))));
    return out;
  }

  /**
   * Whether {@code args} describe an open-ended streaming run ({@code --mode=STREAMING} without
   * {@code --drainWhenCaughtUp=true}): the runs that never end on their own.
   */
  public static boolean openEndedStreaming(List<String> args) {
    String mode = last(args, "--mode", "");
    String drain = last(args, "--drainWhenCaughtUp", "false");
    return mode.equalsIgnoreCase("STREAMING") && !drain.equalsIgnoreCase("true");
  }

  /** The value of the last {@code --name=value} (a bare {@code --name} is "true"). */
  public static String last(List<String> args, String name, String fallback) {
    String value = fallback;
    for (String a : args) {
      if (a.equals(name)) {
        value = "true";
      } else if (a.startsWith(name + "=")) {
        value = a.substring(name.length() + 1);
      }
    }
    return value;
  }

  /** The flags among {@code defaults} whose option {@code args} does not set. */
  public static List<String> missing(List<String> args, List<String> defaults) {
    List<String> out = new ArrayList<>();
    for (String flag : defaults) {
      int eq = flag.indexOf('=');
      String name = eq < 0 ? flag : flag.substring(0, eq);
      boolean given = args.stream().anyMatch(a -> a.equals(name) || a.startsWith(name + "="));
      if (!given) {
        out.add(flag);
      }
    }
    return out;
  }

  /** Throws {@link UnsupportedRunException} if the selected runner refuses {@code options}. */
  public static void check(KappaBeamOptions options) {
    find(options.getRunner().getSimpleName())
        .flatMap(s -> s.refusal(options))
        .ifPresent(
            reason -> {
              throw new UnsupportedRunException(reason);
            });
  }
}
