package dev.kappabeam.pipelines.sinks;

import dev.kappabeam.serving.ReadProgress;
import dev.kappabeam.serving.StoreConfig;
import dev.kappabeam.transforms.events.SourceRecord;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reports how far the job has read each partition into the serving store's {@link ReadProgress}
 * table, once per bundle and partition: the highest offset seen plus one, and how many records.
 * This is what {@code kb reprocess}, {@code kb speed}, {@code kb status} and {@code kb serve} show
 * and decide catch-up on while the job runs, on every runner (Beam metrics reach the launcher only
 * when a Flink or portable job ends, and never from a detached cluster job).
 *
 * <p>A pass-through: the records go on unchanged, so the job's records stay one stream (a second
 * consumer of every record would cost a copy of each, and Flink's batch runner then cannot chain
 * the read with the parse). Bounded and unbounded alike; it keeps no state across bundles. Progress
 * is advisory: a failed write is counted ({@code read_progress_write_failures}), logged at most
 * once a minute, and the next bundle reports again with a fresh connection; it never fails the job.
 * A retried bundle reports its records again (the count is a progress figure, not one of the job's
 * counters).
 *
 * <pre>{@code
 * PCollection<SourceRecord> same =
 *     records.apply("ReportReadProgress", new ReportReadProgress(store, group, runId));
 * }</pre>
 */
public final class ReportReadProgress
    extends PTransform<PCollection<SourceRecord>, PCollection<SourceRecord>> {
  private final StoreConfig store;
  private final String group;
  private final String runId;

  public ReportReadProgress(StoreConfig store, String group, String runId) {
    this.store = Objects.requireNonNull(store, "store");
    this.group = Objects.requireNonNull(group, "group");
    this.runId = Objects.requireNonNull(runId, "runId");
  }

  @Override
  public PCollection<SourceRecord> expand(PCollection<SourceRecord> records) {
    return records
        .apply("ReportPositions", ParDo.of(new ReportFn(store, group, runId)))
        .setCoder(records.getCoder());
  }

  static final class ReportFn extends DoFn<SourceRecord, SourceRecord> {
    private static final Logger LOG = LoggerFactory.getLogger(ReportReadProgress.class);
    private static final long WARN_EVERY_MILLIS = 60_000;

    private final Counter failures =
        Metrics.counter(ReportReadProgress.class, "read_progress_write_failures");
    private final StoreConfig store;
    private final String group;
    private final String runId;
    private transient ReadProgress progress;
    private transient Map<String, Map<Integer, long[]>> bundle; // topic -> partition -> {next, n}
    private transient long lastWarning;

    ReportFn(StoreConfig store, String group, String runId) {
      this.store = store;
      this.group = group;
      this.runId = runId;
    }

    @Setup
    public void setup() {
      // Advisory: a failed report is skipped, not ridden out (the sink downstream does that).
      progress = new ReadProgress(store.withOutageGrace(java.time.Duration.ZERO));
    }

    @StartBundle
    public void startBundle() {
      bundle = new HashMap<>();
    }

    @ProcessElement
    public void process(@Element SourceRecord record, OutputReceiver<SourceRecord> out) {
      out.output(record);
      if (record.partition() < 0 || record.offset() < 0) {
        return; // no coordinates (tests, files): nothing to report
      }
      long[] seen =
          bundle
              .computeIfAbsent(record.topic(), t -> new HashMap<>())
              .computeIfAbsent(record.partition(), p -> new long[2]);
      seen[0] = Math.max(seen[0], record.offset() + 1);
      seen[1]++;
    }

    @FinishBundle
    public void finishBundle() {
      try {
        for (Map.Entry<String, Map<Integer, long[]>> topic : bundle.entrySet()) {
          for (Map.Entry<Integer, long[]> p : topic.getValue().entrySet()) {
            progress.report(
                group, topic.getKey(), runId, p.getKey(), p.getValue()[0], p.getValue()[1]);
          }
        }
      } catch (RuntimeException e) {
        failures.inc();
        long now = System.currentTimeMillis();
        if (now - lastWarning > WARN_EVERY_MILLIS) {
          lastWarning = now;
          LOG.warn(
              "Could not report read progress of {} (retried with the next bundle; the job goes"
                  + " on): {}",
              group,
              e.getMessage());
        }
      } finally {
        bundle = null;
      }
    }

    @Teardown
    public void teardown() {
      if (progress != null) {
        progress.close();
      }
    }
  }
}
