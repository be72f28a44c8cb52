package dev.kappabeam.pipelines.runner;

import dev.kappabeam.pipelines.options.KappaBeamOptions;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.apache.beam.sdk.options.PipelineOptions;

/**
 * What kappa-beam knows about one Beam runner: the flags it runs with unless the caller sets them,
 * and the combinations of mode and features it refuses (with the reason and what to use instead).
 * Each runner module registers one in {@code META-INF/services}; {@link RunnerSupports} finds them
 * on the classpath, so the pipeline's {@code main}, the CLI and the tests apply the same rules.
 */
public interface RunnerSupport {
  /** The runner's simple class name as given to {@code --runner}, e.g. {@code FlinkRunner}. */
  String runnerName();

  /** Flags ({@code --name=value}) appended to the arguments unless they set that option. */
  default List<String> defaultFlags() {
    return List.of();
  }

  /**
   * {@link #defaultFlags()} for one run: a runner may add flags for some modes (e.g. checkpointing
   * for an open-ended streaming job). {@code localDataDir} is where a local run may keep its files
   * (the CLI's data directory); empty when the caller has none.
   */
  default List<String> defaultFlags(List<String> args, Optional<Path> localDataDir) {
    return defaultFlags();
  }

  /**
   * Why this runner cannot run {@code options} correctly, if it cannot: a sentence that says what
   * is unsupported, why, and what to use instead. Empty when the run is supported.
   */
  default Optional<String> refusal(KappaBeamOptions options) {
    return Optional.empty();
  }

  /**
   * Whether a drained streaming run reads its offset ranges as an unbounded source (kappa-beam's
   * own {@code KafkaRangeUnboundedSource}) instead of KafkaIO's splittable read of descriptors: for
   * a runner whose watermark or placement of the splittable read does not suit a replay (see {@code
   * KafkaSources.drained}). Default: the splittable read.
   */
  default boolean readsDrainedRangesAsUnboundedSource(PipelineOptions options) {
    return false;
  }
}
