package dev.kappabeam.serve;

import dev.kappabeam.kappa.VersionLag;
import dev.kappabeam.serving.RegisteredVersion.Status;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The metrics of {@code GET /metrics}, from the registry, the published job counters, the version
 * tables and Kafka (see the module README for the list).
 */
final class Metrics {
  /** Published counter name to metric name; others go to {@code kb_job_counter_total}. */
  static final Map<String, String> COUNTERS = new LinkedHashMap<>();

  static {
    COUNTERS.put("read", "Records read from Kafka by the version's job.");
    COUNTERS.put("parsed", "Records parsed into valid events.");
    COUNTERS.put("accepted", "Events accepted into the views (after de-duplication, not late).");
    COUNTERS.put("dead_lettered", "Records sent to the dead-letter output (invalid).");
    COUNTERS.put("duplicates_removed", "Duplicate events (same event_id) removed.");
    COUNTERS.put(
        "duplicates_conflicting", "Duplicates whose content differed from the first copy.");
    COUNTERS.put("late", "Events later than the allowed lateness, sent to the late output.");
  }

  private Metrics() {}

  static String render(List<ServeApi.VersionState> states) {
    PrometheusText p = new PrometheusText();
    for (Map.Entry<String, String> c : COUNTERS.entrySet()) {
      p.family(
          "kb_records_" + c.getKey() + "_total",
          "counter",
          c.getValue() + " Per job version, since the job started.");
    }
    for (ServeApi.VersionState s : states) {
      var r = s.version();
      if (r.status() == Status.DROPPED) {
        continue;
      }
      Map<String, String> id = labels("view", r.view(), "version", r.version());
      p.family(
              "kb_version_info",
              "gauge",
              "One per registered version (not dropped): status, runner, consumer group, fingerprint.")
          .sample(
              labels(
                  "view",
                  r.view(),
                  "version",
                  r.version(),
                  "status",
                  r.status().sql(),
                  "runner",
                  r.runner(),
                  "consumer_group",
                  r.consumerGroup(),
                  "fingerprint",
                  r.fingerprint()),
              1);
      p.family("kb_version_live", "gauge", "1 for the version the view's alias serves, else 0.")
          .sample(id, s.live() ? 1 : 0);
      p.family(
              "kb_version_job_alive",
              "gauge",
              "1 if the version's job is recorded running with a fresh heartbeat, else 0.")
          .sample(id, s.jobAlive() ? 1 : 0);
      for (Map.Entry<String, Long> c : new java.util.TreeMap<>(s.counters().values()).entrySet()) {
        if (COUNTERS.containsKey(c.getKey())) {
          p.family("kb_records_" + c.getKey() + "_total", "counter", "").sample(id, c.getValue());
        } else {
          p.family(
                  "kb_job_counter_total",
                  "counter",
                  "Other counters published by the version's job, by name.")
              .sample(
                  labels("view", r.view(), "version", r.version(), "counter", c.getKey()),
                  c.getValue());
        }
      }
      if (s.counters().updatedAt() != null) {
        p.family(
                "kb_version_counters_updated_timestamp_seconds",
                "gauge",
                "When the version's job last published its counters (Unix time).")
            .sample(id, s.counters().updatedAt().toEpochMilli() / 1000.0);
      }
      if (s.recordsPerSecond() != null) {
        p.family(
                "kb_version_records_per_second",
                "gauge",
                "Recent read rate of the version's job (records per second).")
            .sample(id, s.recordsPerSecond());
      }
      p.family(
              "kb_version_lag_up",
              "gauge",
              "1 if the consumer lag of the version could be read from Kafka, else 0.")
          .sample(id, s.lag() != null ? 1 : 0);
      if (s.lag() != null) {
        p.family(
                "kb_version_lag_records",
                "gauge",
                "Consumer lag of the version's group, summed over partitions (records).")
            .sample(id, s.totalLag());
        for (VersionLag.PartitionLag l : s.lag()) {
          p.family(
                  "kb_consumer_lag_records",
                  "gauge",
                  "Topic end offset minus the group's committed offset, per partition (records).")
              .sample(
                  labels(
                      "view",
                      r.view(),
                      "version",
                      r.version(),
                      "topic",
                      r.topic(),
                      "consumer_group",
                      r.consumerGroup(),
                      "partition",
                      String.valueOf(l.partition())),
                  l.lag());
        }
      }
      if (s.table() != null) {
        p.family("kb_version_rows", "gauge", "Rows in the version's table.")
            .sample(id, s.table().rows());
        if (s.table().newestEventTime() != null) {
          p.family(
                  "kb_version_newest_event_timestamp_seconds",
                  "gauge",
                  "Newest window start (session end) in the version's table (Unix time).")
              .sample(id, s.table().newestEventTime().toEpochMilli() / 1000.0);
        }
      }
    }
    return p.toString();
  }

  private static Map<String, String> labels(String... kv) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }
}
