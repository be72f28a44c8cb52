package dev.kappabeam.benchmarks;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What a measured child JVM reports about itself when its work is done: CPU time of the whole
 * process (all threads, JIT and GC included, since the JVM started) and peak resident set size.
 */
final class SelfStats {
  private SelfStats() {}

  /** Process CPU time (user + system) in nanoseconds, or -1 if the JVM cannot tell. */
  static long cpuNanos() {
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime();
    }
    return -1;
  }

  /**
   * The machine's busy fraction (all CPUs, 0..1) over {@code millis}, from the first line of
   * /proc/stat: everything but idle and iowait. -1 where there is no /proc/stat.
   */
  static double machineBusy(long millis) throws InterruptedException {
    long[] a = cpuTicks();
    Thread.sleep(millis);
    long[] b = cpuTicks();
    if (a == null || b == null || b[0] <= a[0]) {
      return -1;
    }
    return (double) ((b[0] - a[0]) - (b[1] - a[1])) / (b[0] - a[0]);
  }

  /** {total, idle + iowait} jiffies of all CPUs, or null. */
  private static long[] cpuTicks() {
    try {
      String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long total = 0;
      for (int i = 1; i < f.length; i++) {
        total += Long.parseLong(f[i]);
      }
      return new long[] {total, Long.parseLong(f[4]) + Long.parseLong(f[5])};
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** Peak resident set size (VmHWM) in KiB from /proc/self/status, or -1 where there is none. */
  static long peakRssKb() {
    return statusField(Path.of("/proc/self/status"), "VmHWM:");
  }

  /** A "kB" field of a /proc status file, or -1. */
  static long statusField(Path status, String field) {
    try {
      for (String line : Files.readAllLines(status)) {
        if (line.startsWith(field)) {
          String[] parts = line.substring(field.length()).trim().split("\\s+");
          return Long.parseLong(parts[0]);
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }
}
