package dev.kappabeam.benchmarks;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricConfig;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.MetricReporterFactory;

/**
 * A Flink metric reporter that follows every operator's {@code numRecordsIn} and {@code
 * numRecordsOut} counter per subtask into {@link #counts()}, so a benchmark child can print how the
 * records of one run spread over the subtasks ({@code scripts/bench --subtask-counts}).
 *
 * <p>Flink starts it from the configuration ({@link #writeFlinkConf}); the FlinkRunner hands that
 * configuration to the MiniCluster of {@code --flinkMaster=[local]} through {@code --flinkConfDir}.
 * The counts are kept when Flink removes a finished task's metrics. Only the MiniCluster in the
 * same JVM reports here: Flink creates the reporter itself, so the counts live in one per-JVM
 * instance.
 */
public final class SubtaskCountsReporter implements MetricReporter {
  /**
   * The counts of every reporter Flink starts in this JVM (one MiniCluster per benchmark child).
   */
  private static final SubtaskRecordCounts COUNTS = new SubtaskRecordCounts();

  private static final String OPERATOR_ID = "<operator_id>";
  private static final String OPERATOR_NAME = "<operator_name>";
  private static final String SUBTASK = "<subtask_index>";

  private final SubtaskRecordCounts counts;

  SubtaskCountsReporter(SubtaskRecordCounts counts) {
    this.counts = counts;
  }

  /** What the reporters of this JVM have seen so far. */
  static SubtaskRecordCounts counts() {
    return COUNTS;
  }

  /**
   * Writes a Flink configuration directory that starts this reporter; pass it as {@code
   * --flinkConfDir}. Flink 1.19 reads {@code config.yaml} there (or the legacy {@code
   * flink-conf.yaml} if present); nothing else in it changes Flink's defaults.
   */
  static Path writeFlinkConf(Path dir) throws IOException {
    Files.createDirectories(dir);
    Files.writeString(
        dir.resolve("config.yaml"),
        "metrics.reporter.kb_subtasks.factory.class: " + Factory.class.getName() + "\n",
        StandardCharsets.UTF_8);
    return dir;
  }

  @Override
  public void open(MetricConfig config) {}

  @Override
  public void close() {}

  @Override
  public void notifyOfAddedMetric(Metric metric, String metricName, MetricGroup group) {
    if (metric instanceof Counter c && isRecordCount(metricName)) {
      Map<String, String> v = group.getAllVariables();
      // Task-level counters repeat their chain's first operator; only operator ones count here.
      if (v.containsKey(OPERATOR_ID) && v.containsKey(SUBTASK)) {
        counts.track(
            v.get(OPERATOR_ID),
            v.getOrDefault(OPERATOR_NAME, v.get(OPERATOR_ID)),
            Integer.parseInt(v.get(SUBTASK)),
            metricName,
            c::getCount);
      }
    }
  }

  @Override
  public void notifyOfRemovedMetric(Metric metric, String metricName, MetricGroup group) {
    if (metric instanceof Counter && isRecordCount(metricName)) {
      Map<String, String> v = group.getAllVariables();
      if (v.containsKey(OPERATOR_ID) && v.containsKey(SUBTASK)) {
        counts.freeze(
            v.get(OPERATOR_ID),
            v.getOrDefault(OPERATOR_NAME, v.get(OPERATOR_ID)),
            Integer.parseInt(v.get(SUBTASK)),
            metricName);
      }
    }
  }

  private static boolean isRecordCount(String metricName) {
    return SubtaskRecordCounts.IN.equals(metricName) || SubtaskRecordCounts.OUT.equals(metricName);
  }

  /** Flink's entry point, registered in {@code META-INF/services}. */
  public static final class Factory implements MetricReporterFactory {
    @Override
    public MetricReporter createMetricReporter(Properties properties) {
      return new SubtaskCountsReporter(COUNTS);
    }
  }
}
