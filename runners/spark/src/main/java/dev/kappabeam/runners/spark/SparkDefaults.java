package dev.kappabeam.runners.spark;

import dev.kappabeam.pipelines.runner.RunnerSupports;
import java.util.ArrayList;
import java.util.List;

/**
 * The Spark runner flags kappa-beam runs with unless the caller sets them: the defaults of Beam's
 * {@code SparkPipelineOptions} that do not suit these pipelines.
 *
 * <ul>
 *   <li>{@code --sparkMaster=local[N]}, N = the JVM's available processors: the same as Spark's
 *       {@code local[*]} (all cores) instead of Beam's fixed {@code local[4]}. It is spelled with a
 *       number because Beam 2.62.0 only skips staging the classpath for masters matching {@code
 *       local\[?\d*]?} ({@code SparkCommonPipelineOptions.prepareFilesToStage}): with {@code
 *       local[*]} it would zip every classpath directory and register every jar with the
 *       SparkContext. Under {@code spark-submit} the value is ignored, because Beam only sets the
 *       master when the Spark configuration has none ({@code SparkContextFactory}) and {@code
 *       spark-submit --master} always sets one.
 *   <li>{@code --storageLevel=MEMORY_AND_DISK}: Beam caches every RDD read by more than one
 *       transform (here: the parsed records and the accepted events, which feed three views).
 *       Beam's default for the classic runner, {@code MEMORY_ONLY}, drops cached partitions under
 *       memory pressure and Spark then recomputes them, running the DoFns again: Beam's counters
 *       are Spark accumulators updated inside transformations, so a recomputation counts again and
 *       the "read = accepted + dead-lettered + duplicates" check breaks on a large replay. With
 *       {@code MEMORY_AND_DISK} evicted partitions spill to local disk and are not recomputed.
 * </ul>
 *
 * <p>Deliberately <em>not</em> defaulted: {@code --enableSparkMetricSinks} (Beam's default {@code
 * true} also publishes the Beam counters to Spark's metrics system, which a cluster's dashboards
 * read), {@code --bundleSize} (0: Beam splits a bounded source into the context's default
 * parallelism, which is what the historical read's splits are sized for).
 *
 * <pre>{@code
 * String[] args = SparkDefaults.apply(List.of("--runner=SparkRunner", "--topic=events", ...))
 *     .toArray(new String[0]);
 * }</pre>
 */
public final class SparkDefaults {
  /** The default flags, each {@code --name=value}. */
  public static final List<String> FLAGS =
      List.of(
          "--sparkMaster=local[" + Runtime.getRuntime().availableProcessors() + "]",
          "--storageLevel=MEMORY_AND_DISK");

  private SparkDefaults() {}

  /**
   * Returns {@code args} followed by every default flag whose option {@code args} does not set
   * (neither as {@code --name=value} nor as a bare {@code --name}).
   */
  public static List<String> apply(List<String> args) {
    List<String> out = new ArrayList<>(args);
    out.addAll(RunnerSupports.missing(args, FLAGS));
    return out;
  }
}
