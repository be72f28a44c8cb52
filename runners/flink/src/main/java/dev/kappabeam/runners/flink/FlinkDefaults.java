package dev.kappabeam.runners.flink;

import dev.kappabeam.pipelines.runner.RunnerSupports;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The Flink runner flags kappa-beam runs with unless the caller sets them.
 *
 * <p>Every run: {@code --fasterCopy=true}. Flink otherwise deep-copies every element between
 * chained operators; kappa-beam's transforms treat elements as immutable (the DirectRunner tests
 * enforce it), so the copy is pure cost. {@code --autoWatermarkInterval=200}: how often sources
 * emit watermarks (Flink's own default, set explicitly so Beam's source reader does not warn).
 *
 * <p>Streaming runs, drained or not: {@code --maxBundleSize=10000} (see {@link
 * #STREAMING_MAX_BUNDLE_SIZE}).
 *
 * <p>Open-ended streaming runs ({@code --mode=STREAMING} without {@code --drainWhenCaughtUp}), the
 * jobs that serve a view and the Kappa replays:
 *
 * <ul>
 *   <li>{@code --checkpointingInterval=10000}: KafkaIO commits a job's offsets only when a
 *       checkpoint completes, so without checkpoints the group's lag never moves and a restart has
 *       no state to resume from. With a local data directory, checkpoints go to {@code
 *       <dataDir>/flink-checkpoints} ({@code --stateBackend=filesystem}, {@code
 *       --stateBackendStoragePath}) and are retained when the job is cancelled or its process dies
 *       ({@code --externalizedCheckpointsEnabled}), so {@code --savepointPath} can resume from
 *       them. Without a data directory (the pipeline's {@code main}) they go to a scratch directory
 *       ({@link #scratchCheckpoints}), never to the JobManager's heap. On a cluster, set {@code
 *       --stateBackend}/{@code --stateBackendStoragePath} to shared storage (or use the cluster's
 *       own configuration).
 *   <li>{@code --attachedMode=false}: an attached {@code run()} of an unbounded job never returns,
 *       and a detached job's result can still be watched and cancelled (on a cluster through its
 *       REST client).
 * </ul>
 *
 * <p>Historical and drained runs stay attached and without checkpoints: attached, {@code run()}
 * returns at the end with the job's metrics; with checkpoints Beam would keep finished sources
 * alive and a drained run would never end.
 *
 * <pre>{@code
 * List<String> args = RunnerSupports.withDefaults(List.of("--runner=FlinkRunner", ...), dataDir);
 * }</pre>
 */
public final class FlinkDefaults {
  /** The flags of every run, each {@code --name=value}. */
  public static final List<String> FLAGS =
      List.of("--fasterCopy=true", "--autoWatermarkInterval=200");

  /**
   * Elements per bundle of streaming runs (Beam's default 1,000). A bundle still ends after {@code
   * --maxBundleTimeMills} (1 s), so a live job's latency does not grow; a replay folds more events
   * per key and window before the windowed state and writes fewer, larger batches: 1M events of the
   * reference workload replayed drained 10% faster at 8% less CPU per event (benchmarks/README.md).
   */
  public static final long STREAMING_MAX_BUNDLE_SIZE = 10_000;

  /** Checkpoint interval of open-ended streaming runs, in milliseconds. */
  public static final long CHECKPOINT_INTERVAL_MILLIS = 10_000;

  private FlinkDefaults() {}

  /**
   * Where an embedded open-ended run without a data directory (the pipeline's {@code main}, the
   * shaded jar on {@code [local]}) keeps its checkpoints: {@code
   * <java.io.tmpdir>/kappa-beam-flink-checkpoints}, deleted by Flink when the job ends (not
   * retained). Without it Flink keeps checkpoints in the JobManager's heap, which refuses state
   * over 5 MB: an open-ended job at 10,000 events/s passed that within a minute (its de-duplication
   * state), every checkpoint then failed and, as Beam's {@code --failOnCheckpointingErrors}
   * defaults to true, restarted the job from the last good checkpoint, over and over.
   */
  static Path scratchCheckpoints() {
    return Path.of(System.getProperty("java.io.tmpdir"), "kappa-beam-flink-checkpoints")
        .toAbsolutePath()
        .normalize();
  }

  /** The default flags of the run {@code args} describes. */
  public static List<String> flags(List<String> args, Optional<Path> localDataDir) {
    List<String> flags = new ArrayList<>(FLAGS);
    if (RunnerSupports.last(args, "--mode", "").equalsIgnoreCase("STREAMING")) {
      flags.add("--maxBundleSize=" + STREAMING_MAX_BUNDLE_SIZE);
    }
    if (!RunnerSupports.openEndedStreaming(args)) {
      return flags;
    }
    flags.add("--checkpointingInterval=" + CHECKPOINT_INTERVAL_MILLIS);
    flags.add("--attachedMode=false");
    String master = RunnerSupports.last(args, "--flinkMaster", "[auto]");
    boolean embedded = master.equals("[local]") || master.equals("[auto]");
    if (embedded) {
      localDataDir.ifPresent(
          dir -> {
            flags.add("--stateBackend=filesystem");
            flags.add(
                "--stateBackendStoragePath="
                    + dir.toAbsolutePath().normalize().resolve("flink-checkpoints").toUri());
            flags.add("--externalizedCheckpointsEnabled=true");
            flags.add("--retainExternalizedCheckpointsOnCancellation=true");
          });
      if (localDataDir.isEmpty()) {
        flags.add("--stateBackend=filesystem");
        flags.add("--stateBackendStoragePath=" + scratchCheckpoints().toUri());
      }
    }
    return flags;
  }
}
