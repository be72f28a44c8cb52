package dev.kappabeam.benchmarks;

import dev.kappabeam.devstack.LocalStack;
import dev.kappabeam.devstack.LocalStackControl;
import dev.kappabeam.devstack.StackState;
import dev.kappabeam.pipelines.runner.RunnerSupports;
import dev.kappabeam.serving.StoreConfig;
import dev.kappabeam.serving.ViewDiff;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.Views;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The benchmark harness behind {@code scripts/bench}: in one run, one system at a time, each in its
 * own child JVM with the same JVM settings, over a pre-loaded topic of reference events:
 *
 * <ul>
 *   <li>{@code b0}: a raw {@code KafkaConsumer} read of the topic (bytes only): the I/O ceiling;
 *   <li>{@code b2}: the hand-written single-threaded loop ({@link BaselineLoop}), rows written to
 *       the serving store: the baseline every ratio refers to;
 *   <li>{@code direct}, {@code flink}, {@code spark}: the historical replay of the reference
 *       pipeline ({@code KappaBeamPipeline --mode=HISTORICAL}) into the serving store;
 *   <li>{@code flink-drained}: a drained streaming run on Flink ({@code --mode=STREAMING
 *       --drainWhenCaughtUp=true}), for the catch-up figures;
 *   <li>then the streaming latency run ({@link LatencyRun}).
 * </ul>
 *
 * Every pipeline run writes its own view version, and counts only if every view equals B2's rows.
 * See {@code benchmarks/README.md} for the flags and what each line means.
 */
public final class Bench {
  private static final List<String> ALL_SYSTEMS =
      List.of("b0", "b2", "direct", "flink", "spark", "flink-drained");

  /** Spark on Java 17 needs these (VERSIONS.md); every child gets them, so settings are equal. */
  private static final List<String> ADD_OPENS =
      List.of(
          "java.lang",
          "java.lang.invoke",
          "java.lang.reflect",
          "java.io",
          "java.net",
          "java.nio",
          "java.util",
          "java.util.concurrent",
          "java.util.concurrent.atomic",
          "sun.nio.ch",
          "sun.nio.cs",
          "sun.security.action",
          "sun.util.calendar");

  private final PrintStream out = System.out;
  private List<Integer> sizes = List.of(1_000_000, 4_000_000);
  private List<String> systems = ALL_SYSTEMS;
  private int directMax = 50_000;
  private Path stackDir = Path.of("benchmarks/.stack");
  private boolean keepStack;
  private boolean keepViews;
  private String heap = "4g";
  private String gc = "ParallelGC";
  private final List<String> extraJvm = new ArrayList<>();
  private int flinkParallelism = 2;
  private String sparkMaster = "local[2]";
  private final Map<String, List<String>> flinkVariants = new LinkedHashMap<>();
  private String profile = "";
  private boolean subtaskCounts;
  private Path flinkConfDir;
  private boolean latency = true;
  private boolean latencyOnly;
  private int latencyRate = 5_000;
  private Duration latencyDuration = Duration.ofSeconds(60);
  private Duration latencyWarmUp = Duration.ofSeconds(10);
  private String earlyFiring = "PT1S";
  private Duration timeout = Duration.ofMinutes(20);
  private Path workDir = Path.of("benchmarks/target/bench-run");
  private String classpath = System.getProperty("java.class.path");
  private String sparkClasspath = "";
  private String sparkSkipReason = "";

  private final List<String> table = new ArrayList<>();
  private final Map<String, Map<Integer, Double>> catchUp = new LinkedHashMap<>();

  public static void main(String[] args) throws Exception {
    // Kafka clients log their whole configuration at INFO; the harness prints its own lines.
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    Bench b = new Bench();
    try {
      b.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("bench: " + e.getMessage());
      System.exit(2);
    }
    System.exit(b.run());
  }

  private void parse(String[] args) {
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      String name = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
      boolean flag =
          List.of(
                  "--keep-stack",
                  "--keep-views",
                  "--no-latency",
                  "--latency-only",
                  "--subtask-counts",
                  "--help")
              .contains(name);
      if (!a.startsWith("--") || !parser(name)) {
        throw new IllegalArgumentException("unknown option " + a + " (try --help)");
      }
      String v = flag ? "" : a.contains("=") ? a.substring(a.indexOf('=') + 1) : next(args, ++i, a);
      switch (name) {
        case "--sizes" -> sizes = Arrays.stream(v.split(",")).map(Integer::parseInt).toList();
        case "--systems" -> {
          systems = List.of(v.split(","));
          for (String s : systems) {
            if (!ALL_SYSTEMS.contains(s)) {
              throw new IllegalArgumentException("unknown system " + s + "; known: " + ALL_SYSTEMS);
            }
          }
        }
        case "--direct-max" -> directMax = Integer.parseInt(v);
        case "--stack-dir" -> stackDir = Path.of(v);
        case "--keep-stack" -> keepStack = true;
        case "--keep-views" -> keepViews = true;
        case "--heap" -> heap = v;
        case "--gc" -> gc = v;
        case "--jvm-opt" -> extraJvm.add(v);
        case "--flink-parallelism" -> flinkParallelism = Integer.parseInt(v);
        case "--spark-master" -> sparkMaster = v;
        case "--flink-variant" -> {
          int eq = v.indexOf(':');
          if (eq <= 0) {
            throw new IllegalArgumentException(
                "--flink-variant NAME:FLAGS, e.g. reuse:--objectReuse=true");
          }
          flinkVariants.put(
              "flink-" + v.substring(0, eq), List.of(v.substring(eq + 1).trim().split("\\s+")));
        }
        case "--profile" -> profile = v;
        case "--subtask-counts" -> subtaskCounts = true;
        case "--no-latency" -> latency = false;
        case "--latency-only" -> latencyOnly = true;
        case "--latency-rate" -> latencyRate = Integer.parseInt(v);
        case "--latency-duration" -> latencyDuration = Duration.parse(v);
        case "--latency-warmup" -> latencyWarmUp = Duration.parse(v);
        case "--early-firing" -> earlyFiring = v;
        case "--timeout" -> timeout = Duration.parse(v);
        case "--work-dir" -> workDir = Path.of(v);
        case "--classpath" -> classpath = v;
        case "--spark-classpath" -> sparkClasspath = v;
        case "--spark-skip-reason" -> sparkSkipReason = v;
        case "--help" -> {
          System.out.println(
              "scripts/bench [--sizes 1000000,4000000] [--systems "
                  + String.join(",", ALL_SYSTEMS)
                  + "] [--direct-max 50000] [--heap 4g] [--gc ParallelGC] [--jvm-opt OPT]..."
                  + " [--flink-parallelism 2] [--flink-variant NAME:FLAGS]... [--profile"
                  + " flink|flink-NAME] [--subtask-counts] [--no-latency | --latency-only]"
                  + " [--latency-rate 5000]"
                  + " [--latency-duration PT60S] [--latency-warmup PT10S] [--early-firing PT1S]"
                  + " [--stack-dir benchmarks/.stack] [--keep-stack] [--keep-views] [--timeout PT20M]"
                  + " [--work-dir benchmarks/target/bench-run]\nSee benchmarks/README.md.");
          System.exit(0);
        }
        default -> throw new IllegalArgumentException("unknown option " + a + " (try --help)");
      }
    }
  }

  private static boolean parser(String name) {
    return List.of(
            "--sizes",
            "--systems",
            "--direct-max",
            "--stack-dir",
            "--keep-stack",
            "--keep-views",
            "--heap",
            "--gc",
            "--jvm-opt",
            "--flink-parallelism",
            "--spark-master",
            "--flink-variant",
            "--profile",
            "--subtask-counts",
            "--no-latency",
            "--latency-only",
            "--latency-rate",
            "--latency-duration",
            "--latency-warmup",
            "--early-firing",
            "--timeout",
            "--work-dir",
            "--classpath",
            "--spark-classpath",
            "--spark-skip-reason",
            "--help")
        .contains(name);
  }

  private static String next(String[] args, int i, String flag) {
    if (i >= args.length) {
      throw new IllegalArgumentException(flag + " needs a value");
    }
    return args[i];
  }

  private List<String> jvmOptions() {
    List<String> o = new ArrayList<>(List.of("-Xms" + heap, "-Xmx" + heap, "-XX:+Use" + gc));
    for (String p : ADD_OPENS) {
      o.add("--add-opens=java.base/" + p + "=ALL-UNNAMED");
    }
    o.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
    o.addAll(extraJvm);
    return o;
  }

  private int run() throws Exception {
    String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    Path dir = workDir.resolve(stamp);
    Files.createDirectories(dir);
    out.println("== kappa-beam benchmark " + stamp + " ==");
    out.printf(
        "machine: %d cores, %s; SHARED with other builds: absolute figures are noisy, the ratios"
            + " to B2 (measured in the same run) are the figures that matter%n",
        Runtime.getRuntime().availableProcessors(), memory());
    out.println(
        "java: " + System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    out.println("child JVM settings (every measured system): " + String.join(" ", jvmOptions()));
    out.println("workload: " + ReferenceWorkload.describe());
    out.println(
        "sizes: "
            + sizes
            + "; systems: "
            + systems
            + "; flink variants: "
            + flinkVariants.keySet());
    out.println("logs and result files: " + dir);
    if (subtaskCounts) {
      flinkConfDir = SubtaskCountsReporter.writeFlinkConf(dir.resolve("flink-conf"));
      out.println(
          "subtask counts: Flink runs report numRecordsIn/Out per operator subtask (--flinkConfDir="
              + flinkConfDir
              + ")");
    }

    LocalStackControl.UpResult up =
        LocalStackControl.up(
            // Ports apart from `kb local`'s (19092-19094), so both stacks can run side by side.
            LocalStack.Config.of(stackDir)
                .withKafkaPort(19192)
                .withControllerPort(19193)
                .withH2Port(19194),
            stackDir.resolve("stack.log"));
    StackState st = up.state();
    out.printf(
        "local stack: %s (kafka %s, h2 %s, data %s)%n",
        up.alreadyRunning() ? "reused the running one" : "started in the background",
        st.bootstrapServers(),
        st.jdbcUrl(),
        st.dataDir());
    int rc = 0;
    try (ViewStore store =
        new ViewStore(StoreConfig.of(st.jdbcUrl(), st.jdbcUser(), st.jdbcPassword()))) {
      List<Integer> runSizes = new ArrayList<>(latencyOnly ? List.of() : sizes);
      boolean capped =
          !latencyOnly && systems.contains("direct") && sizes.stream().anyMatch(n -> n > directMax);
      if (capped && !runSizes.contains(directMax)) {
        runSizes.add(0, directMax);
        out.printf(
            "direct: sizes above --direct-max %,d are skipped (DirectRunner does not scale to"
                + " millions: out of heap at 4M, VERSIONS.md); it runs on a %,d-record topic,"
                + " with B2 measured there too%n",
            directMax, directMax);
      }
      for (int n : runSizes) {
        boolean capOnly = capped && n == directMax && !sizes.contains(n);
        rc |= runSize(st, store, n, capOnly, dir.resolve(String.valueOf(n)));
      }
      if (!latencyOnly) {
        printSummary();
      }
      if (latency) {
        out.println();
        out.println("== streaming latency on Flink ==");
        LatencyRun.run(
            st.bootstrapServers(),
            st.jdbcUrl(),
            st.jdbcUser(),
            st.jdbcPassword(),
            store,
            new LatencyRun.Settings(
                latencyRate,
                latencyDuration,
                latencyWarmUp,
                earlyFiring,
                flinkParallelism,
                List.of()),
            jvmOptions(),
            classpath,
            dir,
            out);
      }
    } finally {
      if (!up.alreadyRunning() && !keepStack) {
        out.println("local stack: stopping (the loaded topics stay in " + st.dataDir() + ")");
        LocalStackControl.down(stackDir);
      }
    }
    return rc;
  }

  /**
   * Waits (up to a minute) until the machine is idle before a system starts, so that work left
   * behind by the one before (the serving store compacting what it just wrote, a JVM exiting, the
   * broker flushing) is not charged to the next. Quiet: under 15% of all CPUs busy over a second.
   */
  private void awaitQuietMachine(String system) throws InterruptedException {
    long start = System.nanoTime();
    double busy = SelfStats.machineBusy(1_000);
    while (busy > 0.15 && System.nanoTime() - start < 60_000_000_000L) {
      busy = SelfStats.machineBusy(1_000);
    }
    double waited = (System.nanoTime() - start) / 1e9;
    if (busy > 0.15) {
      out.printf(
          "%s: machine still %.0f%% busy after %.0f s; its figures may be low%n",
          system, busy * 100, waited);
    } else if (waited > 1.5) {
      out.printf(
          "%s: waited %.1f s for a quiet machine (%.0f%% busy)%n", system, waited, busy * 100);
    }
  }

  private int runSize(StackState st, ViewStore store, int n, boolean capOnly, Path dir)
      throws Exception {
    out.println();
    out.printf("== %,d events%s ==%n", n, capOnly ? " (for DirectRunner only)" : "");
    String topic = ReferenceWorkload.ensureLoaded(st.bootstrapServers(), n, out);
    String bootstrap = st.bootstrapServers();
    List<String> todo = new ArrayList<>();
    for (String s : systems) {
      if (capOnly && !List.of("b0", "b2", "direct").contains(s)) {
        continue;
      }
      todo.add(s);
      if (s.equals("flink")) {
        todo.addAll(flinkVariants.keySet());
      }
    }
    if (!todo.contains("b2")) {
      todo.add(0, "b2");
      out.println("b2: added (every ratio and view check refers to it)");
    }
    Map<ViewDefinition, List<org.apache.beam.sdk.values.Row>> b2Rows = null;
    ChildRun.Result b2 = null;
    String runId = Long.toString(System.currentTimeMillis() % 1_000_000_000L, 36);
    int rc = 0;
    for (String system : todo) {
      awaitQuietMachine(system);
      String version = "bench_" + system.replace('-', '_') + "_" + n;
      List<String> jvm = new ArrayList<>(jvmOptions());
      if (system.equals(profile)) {
        Path jfr = dir.resolve(system + ".jfr");
        Files.createDirectories(dir);
        jvm.add("-XX:StartFlightRecording=filename=" + jfr + ",settings=profile");
      }
      ChildRun.Result r;
      switch (system) {
        case "b0" ->
            r =
                ChildRun.run(
                    system, jvm, classpath, "raw", List.of(bootstrap, topic), dir, timeout);
        case "b2" -> {
          dropViews(store, version);
          r =
              ChildRun.run(
                  system,
                  jvm,
                  classpath,
                  "loop",
                  List.of(
                      bootstrap, topic, st.jdbcUrl(), st.jdbcUser(), st.jdbcPassword(), version),
                  dir,
                  timeout);
        }
        default -> {
          if (system.equals("direct") && n > directMax) {
            out.printf(
                "direct: skipped at %,d (above --direct-max %,d; see the %,d-record run)%n",
                n, directMax, directMax);
            continue;
          }
          String cp = classpath;
          List<String> runner = runnerFlags(system);
          if (system.equals("spark")) {
            if (sparkClasspath.isBlank()) {
              out.println(
                  "spark: skipped ("
                      + (sparkSkipReason.isBlank() ? "no Spark runner classpath" : sparkSkipReason)
                      + ")");
              continue;
            }
            cp = sparkClasspath;
          }
          dropViews(store, version);
          List<String> flags = new ArrayList<>(runner);
          if (flinkConfDir != null
              && flags.contains("--runner=FlinkRunner")
              && flags.stream().noneMatch(f -> f.startsWith("--flinkConfDir="))) {
            flags.add("--flinkConfDir=" + flinkConfDir);
          }
          flags.addAll(
              List.of(
                  "--bootstrapServers=" + bootstrap,
                  "--topic=" + topic,
                  "--jdbcUrl=" + st.jdbcUrl(),
                  "--jdbcUser=" + st.jdbcUser(),
                  "--viewVersion=" + version,
                  "--consumerGroup=bench-" + version + "-" + runId,
                  "--jobName=bench-" + system.replace('_', '-')));
          r = ChildRun.run(system, jvm, cp, "pipeline", flags, dir, timeout);
        }
      }
      if (!r.ok()) {
        out.printf("RESULT size=%d system=%s FAILED: %s%n", n, system, r.error());
        table.add(String.format("| %,d | %s | FAILED: %s | | | | | | |", n, system, r.error()));
        rc = 1;
        if (system.equals("b2")) {
          out.println("b2 failed: no baseline for this size; skipping the rest of it");
          return 1;
        }
        continue;
      }
      String verdict;
      if (system.equals("b2")) {
        b2 = r;
        b2Rows = new LinkedHashMap<>();
        for (ViewDefinition v : Views.all()) {
          b2Rows.put(v, store.readAll(v, version));
        }
        verdict = "baseline";
        out.printf(
            "b2: read %s, parsed %s, dead-lettered %s, duplicates %s, accepted %s; %s rows;"
                + " loop %.1f s + store write %.1f s%n",
            r.props().getProperty("records"),
            r.props().getProperty("parsed"),
            r.props().getProperty("dead_lettered"),
            r.props().getProperty("duplicates"),
            r.props().getProperty("accepted"),
            r.props().getProperty("rows"),
            Long.parseLong(r.props().getProperty("compute_ms")) / 1e3,
            r.workSeconds() - Long.parseLong(r.props().getProperty("compute_ms")) / 1e3);
      } else if (system.equals("b0")) {
        verdict = "bytes only";
      } else {
        verdict = compare(store, b2Rows, version) ? "SAME" : "DIFFERS";
        if (r.props().containsKey("counter.read")) {
          out.printf(
              "%s counters: read %s, parsed %s, dead_lettered %s, duplicates_removed %s, late %s,"
                  + " accepted %s%n",
              system,
              r.props().getProperty("counter.read", "0"),
              r.props().getProperty("counter.parsed", "0"),
              r.props().getProperty("counter.dead_lettered", "0"),
              r.props().getProperty("counter.duplicates_removed", "0"),
              r.props().getProperty("counter.late", "0"),
              r.props().getProperty("counter.accepted", "0"));
        }
        if (!keepViews) {
          dropViews(store, version);
        }
        if (verdict.equals("DIFFERS")) {
          rc = 1;
        }
      }
      if (r.records() != n) {
        verdict += " (read " + r.records() + ", not " + n + ")";
      }
      report(n, r, b2, verdict);
      if (r.props().containsKey("subtask_counts")) {
        out.printf(
            "%s records per subtask (Flink numRecordsIn, share of the operator's total):%n%s%n",
            system, r.props().getProperty("subtask_counts"));
      }
      if (system.equals(profile)) {
        JfrTop.print(dir.resolve(system + ".jfr"), 25, out);
      }
    }
    if (b2 != null && !keepViews) {
      dropViews(store, "bench_b2_" + n);
    }
    return rc;
  }

  private List<String> runnerFlags(String system) {
    List<String> f = new ArrayList<>();
    switch (system) {
      case "direct" -> f.addAll(List.of("--runner=DirectRunner", "--mode=HISTORICAL"));
      case "spark" ->
          f.addAll(
              List.of("--runner=SparkRunner", "--sparkMaster=" + sparkMaster, "--mode=HISTORICAL"));
      case "flink-drained" -> {
        f.addAll(flinkBase());
        f.addAll(List.of("--mode=STREAMING", "--drainWhenCaughtUp=true"));
      }
      default -> {
        List<String> variant = flinkVariants.getOrDefault(system, List.of());
        // A variant's flag replaces the base flag of the same name (Beam rejects repeats).
        for (String flag : flinkBase()) {
          if (RunnerSupports.missing(variant, List.of(flag)).contains(flag)) {
            f.add(flag);
          }
        }
        // A variant may choose its mode (e.g. a drained streaming run with other bundle sizes).
        if (variant.stream().noneMatch(a -> a.startsWith("--mode="))) {
          f.add("--mode=HISTORICAL");
        }
        f.addAll(variant);
      }
    }
    return f;
  }

  private List<String> flinkBase() {
    return List.of(
        "--runner=FlinkRunner", "--flinkMaster=[local]", "--parallelism=" + flinkParallelism);
  }

  private void report(int n, ChildRun.Result r, ChildRun.Result b2, String verdict) {
    double ratio = b2 == null ? Double.NaN : r.eventsPerSecond() / b2.eventsPerSecond();
    // CPU efficiency relative to B2: less sensitive than wall time to other load on the machine.
    double cpuRatio = b2 == null ? Double.NaN : b2.cpuSecondsPerEvent() / r.cpuSecondsPerEvent();
    boolean counts =
        verdict.startsWith("SAME") || verdict.startsWith("baseline") || verdict.startsWith("bytes");
    String ratioText =
        b2 == null ? "-" : counts ? String.format("%.3f", ratio) : "n/a (does not count)";
    String cpuRatioText = b2 == null ? "-" : counts ? String.format("%.3f", cpuRatio) : "n/a";
    out.printf(
        "RESULT size=%d system=%s events/s=%.0f ratio_to_b2=%s cpu_s/event=%.2e"
            + " cpu_efficiency_vs_b2=%s cpu_s=%.1f peak_rss=%d MB work=%.1f s wall=%.1f s"
            + " views=%s%n",
        n,
        r.system(),
        r.eventsPerSecond(),
        ratioText,
        r.cpuSecondsPerEvent(),
        cpuRatioText,
        r.cpuSeconds(),
        r.peakRssKb() / 1024,
        r.workSeconds(),
        r.wallSeconds(),
        verdict);
    table.add(
        String.format(
            "| %,d | %s | %,.0f | %s | %.1f | %s | %,d | %.1f | %.1f | %s |",
            n,
            r.system(),
            r.eventsPerSecond(),
            counts ? ratioText : "does not count",
            r.cpuSecondsPerEvent() * 1e6,
            cpuRatioText,
            r.peakRssKb() / 1024,
            r.workSeconds(),
            r.wallSeconds(),
            verdict));
    if (counts && (r.system().equals("flink") || r.system().equals("flink-drained"))) {
      catchUp.computeIfAbsent(r.system(), k -> new LinkedHashMap<>()).put(n, r.workSeconds());
    }
  }

  /** True if every view of {@code version} equals B2's rows; prints the first differing rows. */
  private boolean compare(
      ViewStore store,
      Map<ViewDefinition, List<org.apache.beam.sdk.values.Row>> b2,
      String version) {
    boolean same = true;
    for (ViewDefinition v : Views.all()) {
      ViewDiff d = ViewDiff.compare(v, b2.get(v), store.readAll(v, version));
      if (!d.isEmpty()) {
        same = false;
        String text = d.format("b2", version);
        String[] lines = text.split("\n");
        out.printf(
            "DIFFERS %s %s: %d row(s) differ from B2; first rows:%n%s%n",
            version,
            v.name(),
            d.size(),
            String.join("\n", Arrays.copyOf(lines, Math.min(lines.length, 12))));
      }
    }
    return same;
  }

  private static void dropViews(ViewStore store, String version) {
    for (ViewDefinition v : Views.all()) {
      store.dropTable(v, version);
    }
  }

  private void printSummary() {
    out.println();
    out.println("== summary (shared 2-core machine: compare the ratios) ==");
    out.println(
        "| events | system | events/s | ratio to B2 | CPU-µs/event | CPU efficiency vs B2 | peak"
            + " RSS MB | work s | wall s | views |");
    out.println("|---:|---|---:|---:|---:|---:|---:|---:|---:|---|");
    table.forEach(out::println);
    for (Map.Entry<String, Map<Integer, Double>> e : catchUp.entrySet()) {
      Map<Integer, Double> t = e.getValue();
      StringBuilder sb = new StringBuilder("catch-up " + e.getKey() + ":");
      t.forEach((n, s) -> sb.append(String.format(" %,d events in %.1f s;", n, s)));
      if (t.containsKey(1_000_000) && t.containsKey(4_000_000)) {
        sb.append(
            String.format(" 4M/1M = %.2f (4.00 = linear)", t.get(4_000_000) / t.get(1_000_000)));
      }
      out.println(sb);
    }
  }

  private static String memory() {
    long kb = SelfStats.statusField(Path.of("/proc/meminfo"), "MemTotal:");
    return kb < 0 ? "memory unknown" : String.format("%.0f GB RAM", kb / 1024.0 / 1024.0);
  }
}
