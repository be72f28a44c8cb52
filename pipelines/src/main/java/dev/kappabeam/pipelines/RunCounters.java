package dev.kappabeam.pipelines;

import dev.kappabeam.transforms.CounterNames;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricKey;
import org.apache.beam.sdk.metrics.MetricQueryResults;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;

/**
 * The kappa-beam counters of a run ({@link CounterNames}), summed over the steps that report them,
 * the same way on every runner.
 *
 * <p>Each step's counter is taken once, at the largest value reported for its {@link MetricKey}.
 * Beam's {@code PortableMetrics} (the results of a {@code PortableRunner} job) converts the job
 * service's attempted <em>and</em> committed monitoring infos into separate results with the same
 * key, both as "attempted"; summing everything would double every counter on the portable runner.
 */
public final class RunCounters {
  /** The counters reported, in this order; 0 when a runner reports none. */
  public static final List<String> NAMES =
      List.of(
          CounterNames.READ,
          CounterNames.PARSED,
          CounterNames.DEAD_LETTERED,
          CounterNames.DUPLICATES_REMOVED,
          CounterNames.LATE,
          CounterNames.ACCEPTED,
          CounterNames.DUPLICATES_CONFLICTING,
          CounterNames.PRIMED,
          CounterNames.DUPLICATES_MISSED_AT_CUTOFF);

  private RunCounters() {}

  /**
   * The counters of {@code result}: attempted values, or committed ones where the runner supports
   * them and {@code attempted} is false. All zero when the runner has no metrics (yet).
   */
  public static Map<String, Long> of(PipelineResult result, boolean attempted) {
    Map<String, Long> out = new LinkedHashMap<>();
    NAMES.forEach(n -> out.put(n, 0L));
    MetricQueryResults q;
    try {
      q = result.metrics().queryMetrics(MetricsFilter.builder().build());
    } catch (UnsupportedOperationException | IllegalStateException e) {
      return out;
    }
    Map<MetricKey, Long> perStep = new HashMap<>();
    for (MetricResult<Long> c : q.getCounters()) {
      if (CounterNames.NAMESPACE.equals(c.getName().getNamespace())
          && out.containsKey(c.getName().getName())) {
        Long v;
        try {
          v = attempted ? c.getAttempted() : c.getCommitted();
        } catch (UnsupportedOperationException e) {
          v = c.getAttempted();
        }
        perStep.merge(c.getKey(), v == null ? 0L : v, Math::max);
      }
    }
    perStep.forEach((key, v) -> out.merge(key.metricName().getName(), v, Long::sum));
    return out;
  }

  /** {@code counters} with {@code read} raised to {@code reported} where the metrics lag behind. */
  public static Map<String, Long> withRead(Map<String, Long> counters, long reported) {
    Map<String, Long> out = new java.util.LinkedHashMap<>(counters);
    out.merge(CounterNames.READ, reported, Math::max);
    return out;
  }
}
