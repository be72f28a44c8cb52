package dev.kappabeam.runners.spark;

import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.pipelines.options.RunMode;
import dev.kappabeam.pipelines.runner.RunnerSupport;
import java.util.List;
import java.util.Optional;
import org.apache.beam.sdk.options.StreamingOptions;

/**
 * Registers {@link SparkDefaults} for {@code --runner=SparkRunner} (Beam's classic RDD/DStream
 * runner, {@code beam-runners-spark-3} 2.62.0) and refuses what it cannot run correctly.
 *
 * <p>Supported: {@code --mode=HISTORICAL} (a Spark batch job; passes the parity fixture).
 *
 * <p>Refused (the tests check both that the refusal fires and, for the streaming modes, that Beam
 * still rejects the pipeline without it, in {@code SparkStreamingLimitsIT}):
 *
 * <ul>
 *   <li>{@code --mode=STREAMING}: an unbounded pipeline runs as DStream micro-batches, where Beam
 *       translates a stateful ParDo through {@code StatefulStreamingParDoEvaluator}, which rejects
 *       timers ({@code TranslationUtils.rejectTimers}: "cannot yet be used with timers in the
 *       SparkRunner"). kappa-beam's streaming path needs event-time timers: {@code
 *       DeduplicateEvents} forgets an event id after the dedup horizon, and {@code SplitLateEvents}
 *       learns the watermark from timers to route too-late events to the late topic (without it a
 *       window would drop them silently). Dropping those transforms on Spark would change the
 *       answer, so the run is refused.
 *   <li>{@code --mode=STREAMING --drainWhenCaughtUp=true}: as above, and its source, KafkaIO's
 *       {@code readSourceDescriptors} with stop offsets, is a splittable DoFn, which Beam's Spark
 *       runner expands only in batch pipelines ({@code SparkTransformOverrides}); in streaming the
 *       translation fails ("Not expected to directly translate splittable DoFn").
 *   <li>{@code --streaming=true} with {@code --mode=HISTORICAL}: Beam then wraps the bounded
 *       pipeline in a Spark Streaming context instead of running a batch job; that path is not
 *       verified (it does not fail at translation, so this refusal is a precaution, not a Beam
 *       error).
 * </ul>
 */
public final class SparkRunnerSupport implements RunnerSupport {
  static final String INSTEAD =
      " Use --runner=FlinkRunner (or DirectRunner) for streaming; on Spark use --mode=HISTORICAL"
          + " (the same views from a bounded read of the log).";

  static final String STREAMING =
      "SparkRunner cannot run --mode=STREAMING: Beam 2.62.0's Spark runner runs unbounded"
          + " pipelines as DStream micro-batches and rejects event-time timers there"
          + " (StatefulStreamingParDoEvaluator -> TranslationUtils.rejectTimers), which"
          + " kappa-beam's streaming path needs (DeduplicateEvents forgets event ids after the"
          + " dedup horizon; SplitLateEvents sends events later than the allowed lateness to the"
          + " late topic instead of letting a window drop them).";

  static final String DRAINED =
      "SparkRunner cannot run --mode=STREAMING --drainWhenCaughtUp=true: its Kafka read with stop"
          + " offsets is a splittable DoFn (KafkaIO.readSourceDescriptors), and Beam 2.62.0's"
          + " SparkRunner expands splittable DoFns only in batch pipelines (SparkTransformOverrides),"
          + " so a streaming one fails ('Not expected to directly translate splittable DoFn');"
          + " the streaming path also needs event-time timers, which the runner rejects in"
          + " streaming (TranslationUtils.rejectTimers).";

  static final String STREAMING_FLAG =
      "SparkRunner does not run --mode=HISTORICAL with --streaming=true: kappa-beam runs historical"
          + " mode on Spark as a batch job (tested for parity); --streaming=true makes Beam's"
          + " SparkRunner wrap the bounded pipeline in a Spark Streaming context instead, a path"
          + " that is not verified to give the same answer or to end. Drop --streaming.";

  @Override
  public String runnerName() {
    return "SparkRunner";
  }

  @Override
  public List<String> defaultFlags() {
    return SparkDefaults.FLAGS;
  }

  @Override
  public Optional<String> refusal(KappaBeamOptions options) {
    if (options.getMode() == RunMode.STREAMING) {
      return Optional.of((options.getDrainWhenCaughtUp() ? DRAINED : STREAMING) + INSTEAD);
    }
    if (options.as(StreamingOptions.class).isStreaming()) {
      return Optional.of(STREAMING_FLAG);
    }
    return Optional.empty();
  }
}
