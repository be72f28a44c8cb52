package dev.kappabeam.benchmarks;

import dev.kappabeam.pipelines.KappaBeamPipeline;
import dev.kappabeam.pipelines.RunPlan;
import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.pipelines.runner.RunnerSupports;
import dev.kappabeam.serving.StoreConfig;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.CounterNames;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.values.Row;

/**
 * The entry point of a measured child JVM: one system, one run, then a result file ({@code
 * key=value}) with what it read, how long its work took, and its own CPU time and peak RSS.
 *
 * <pre>
 * ChildMain raw      RESULT BOOTSTRAP TOPIC                      (B0)
 * ChildMain loop     RESULT BOOTSTRAP TOPIC JDBC_URL USER PASSWORD VERSION   (B2)
 * ChildMain pipeline RESULT BEAM_FLAGS...                        (a runner; waits until done)
 * ChildMain open     RESULT BEAM_FLAGS...                        (open-ended streaming; until killed)
 * </pre>
 */
public final class ChildMain {
  private ChildMain() {}

  public static void main(String[] args) throws Exception {
    String mode = args[0];
    Path result = Path.of(args[1]);
    String[] rest = Arrays.copyOfRange(args, 2, args.length);
    Properties out = new Properties();
    long start = System.nanoTime();
    switch (mode) {
      case "raw" -> raw(rest, out);
      case "loop" -> loop(rest, out, start);
      case "pipeline" -> pipeline(rest, out);
      case "open" -> {
        open(rest);
        return;
      }
      default -> throw new IllegalArgumentException("unknown mode " + mode);
    }
    out.setProperty("work_ms", String.valueOf((System.nanoTime() - start) / 1_000_000));
    out.setProperty("cpu_ns", String.valueOf(SelfStats.cpuNanos()));
    out.setProperty("hwm_kb", String.valueOf(SelfStats.peakRssKb()));
    out.setProperty("jvm_uptime_ms", String.valueOf(uptimeMillis()));
    try (Writer w = Files.newBufferedWriter(result, StandardCharsets.UTF_8)) {
      out.store(w, null);
    }
    // Flink and Spark leave non-daemon threads behind; the result is written, so leave now.
    System.exit(0);
  }

  private static long uptimeMillis() {
    return java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime();
  }

  /** B0: every record's bytes, nothing else (the I/O ceiling). */
  private static void raw(String[] a, Properties out) {
    long[] bytes = new long[1];
    long n =
        TopicReader.readAll(
            a[0],
            a[1],
            r -> {
              byte[] k = r.key();
              byte[] v = r.value();
              bytes[0] += (k == null ? 0 : k.length) + (v == null ? 0 : v.length);
            });
    out.setProperty("records", String.valueOf(n));
    out.setProperty("bytes", String.valueOf(bytes[0]));
  }

  /**
   * B2: the hand-written loop, then its rows written into the serving store as a view version. The
   * store write is part of the work (every system ends with its rows in the store); {@code
   * compute_ms} is the loop alone.
   */
  private static void loop(String[] a, Properties out, long start) {
    BaselineLoop loop = new BaselineLoop(ViewParameters.defaults());
    long n = TopicReader.readAll(a[0], a[1], r -> loop.accept(r.value()));
    Map<ViewDefinition, List<Row>> rows = loop.rows();
    long computed = System.nanoTime();
    long total = 0;
    try (ViewStore store = new ViewStore(StoreConfig.of(a[2], a[3], a[4]))) {
      for (Map.Entry<ViewDefinition, List<Row>> e : rows.entrySet()) {
        store.createTable(e.getKey(), a[5]);
        List<Row> list = e.getValue();
        for (int from = 0; from < list.size(); from += 5_000) {
          store.apply(e.getKey(), a[5], list.subList(from, Math.min(list.size(), from + 5_000)));
        }
        total += list.size();
      }
    }
    out.setProperty("records", String.valueOf(n));
    out.setProperty("compute_ms", String.valueOf((computed - start) / 1_000_000));
    out.setProperty("rows", String.valueOf(total));
    out.setProperty("parsed", String.valueOf(loop.parsed()));
    out.setProperty("dead_lettered", String.valueOf(loop.deadLettered()));
    out.setProperty("duplicates", String.valueOf(loop.duplicates()));
    out.setProperty("accepted", String.valueOf(loop.accepted()));
  }

  private static KappaBeamOptions options(String[] flags) {
    String[] withDefaults = RunnerSupports.withDefaults(List.of(flags)).toArray(new String[0]);
    System.err.println("bench child flags: " + String.join(" ", withDefaults));
    return PipelineOptionsFactory.fromArgs(withDefaults)
        .withValidation()
        .as(KappaBeamOptions.class);
  }

  /** A bounded or drained run of the reference pipeline, to the end. */
  private static void pipeline(String[] flags, Properties out) {
    KappaBeamOptions o = options(flags);
    RunPlan plan = KappaBeamPipeline.plan(o);
    // Read before run(): the runner replaces transforms in the pipeline it is given.
    Set<String> keyedSteps = KeyedSteps.of(plan.pipeline());
    PipelineResult result = plan.pipeline().run();
    PipelineResult.State state = result.waitUntilFinish();
    if (state != PipelineResult.State.DONE) {
      throw new IllegalStateException("the pipeline ended " + state);
    }
    out.setProperty("records", String.valueOf(plan.totalRecords()));
    List<String> names =
        new ArrayList<>(
            List.of(
                CounterNames.READ,
                CounterNames.PARSED,
                CounterNames.DEAD_LETTERED,
                CounterNames.DUPLICATES_REMOVED,
                CounterNames.LATE,
                CounterNames.ACCEPTED));
    try {
      for (MetricResult<Long> c :
          result.metrics().queryMetrics(MetricsFilter.builder().build()).getCounters()) {
        String name = c.getName().getName();
        if (CounterNames.NAMESPACE.equals(c.getName().getNamespace()) && names.contains(name)) {
          long prev = Long.parseLong(out.getProperty("counter." + name, "0"));
          out.setProperty("counter." + name, String.valueOf(prev + c.getAttempted()));
        }
      }
    } catch (RuntimeException e) {
      out.setProperty("counters_error", String.valueOf(e.getMessage()));
    }
    // Filled only when the run's Flink configuration started the reporter (--subtask-counts).
    SubtaskRecordCounts perSubtask = SubtaskCountsReporter.counts();
    if (!perSubtask.isEmpty()) {
      out.setProperty("subtask_counts", String.join("\n", perSubtask.format(keyedSteps)));
    }
  }

  /**
   * An open-ended streaming job: submitted, then this JVM (and the job in it) lives until killed.
   */
  private static void open(String[] flags) throws IOException, InterruptedException {
    KappaBeamOptions o = options(flags);
    KappaBeamPipeline.plan(o).pipeline().run();
    System.out.println("SUBMITTED");
    System.out.flush();
    Thread.currentThread().join();
  }
}
