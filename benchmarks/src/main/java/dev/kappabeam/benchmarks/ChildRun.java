package dev.kappabeam.benchmarks;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * One measured system in its own child JVM ({@link ChildMain}): spawned with the harness's JVM
 * settings, waited for with a deadline, its result file read back. While it runs, the harness also
 * samples its VmHWM from {@code /proc/<pid>/status}, so a child that dies still has a peak RSS.
 */
final class ChildRun {
  /** What a child reported. {@code error} is null when it ended normally with a result. */
  record Result(
      String system,
      long records,
      double workSeconds,
      double wallSeconds,
      double cpuSeconds,
      long peakRssKb,
      Properties props,
      String error,
      Path log) {

    double eventsPerSecond() {
      return records / workSeconds;
    }

    double cpuSecondsPerEvent() {
      return cpuSeconds / records;
    }

    boolean ok() {
      return error == null;
    }
  }

  private ChildRun() {}

  static Result run(
      String system,
      List<String> jvmOptions,
      String classpath,
      String mode,
      List<String> args,
      Path dir,
      Duration timeout)
      throws IOException, InterruptedException {
    Files.createDirectories(dir);
    Path result = dir.resolve(system + ".result");
    Path log = dir.resolve(system + ".log");
    Files.deleteIfExists(result);
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmOptions);
    cmd.add("-cp");
    cmd.add(classpath);
    cmd.add(ChildMain.class.getName());
    cmd.add(mode);
    cmd.add(result.toString());
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.redirectOutput(log.toFile());
    long started = System.nanoTime();
    Process p = pb.start();
    Path status = Path.of("/proc", String.valueOf(p.pid()), "status");
    long sampledHwm = -1;
    long deadline = started + timeout.toNanos();
    while (!p.waitFor(250, TimeUnit.MILLISECONDS)) {
      sampledHwm = Math.max(sampledHwm, SelfStats.statusField(status, "VmHWM:"));
      if (System.nanoTime() > deadline) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly().waitFor();
        return failed(system, "timed out after " + timeout.toSeconds() + " s", sampledHwm, log);
      }
    }
    double wall = (System.nanoTime() - started) / 1e9;
    if (p.exitValue() != 0 || !Files.exists(result)) {
      return failed(
          system,
          "exit " + p.exitValue() + ": " + lastError(log) + " (log: " + log + ")",
          sampledHwm,
          log);
    }
    Properties props = new Properties();
    try (Reader r = Files.newBufferedReader(result, StandardCharsets.UTF_8)) {
      props.load(r);
    }
    long hwm = Long.parseLong(props.getProperty("hwm_kb", "-1"));
    return new Result(
        system,
        Long.parseLong(props.getProperty("records")),
        Long.parseLong(props.getProperty("work_ms")) / 1e3,
        wall,
        Long.parseLong(props.getProperty("cpu_ns")) / 1e9,
        Math.max(hwm, sampledHwm),
        props,
        null,
        log);
  }

  private static Result failed(String system, String error, long hwm, Path log) {
    return new Result(system, 0, 0, 0, 0, hwm, new Properties(), error, log);
  }

  /** The last line of the log that looks like an exception or error, else its last line. */
  static String lastError(Path log) {
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      for (int i = lines.size() - 1; i >= 0; i--) {
        String l = lines.get(i);
        if (l.contains("Exception") || l.contains("Error")) {
          return l.strip();
        }
      }
      return lines.isEmpty() ? "(empty log)" : lines.get(lines.size() - 1).strip();
    } catch (IOException | RuntimeException e) {
      return "(no log)";
    }
  }
}
