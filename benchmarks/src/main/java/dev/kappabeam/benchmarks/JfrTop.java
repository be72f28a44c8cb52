package dev.kappabeam.benchmarks;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * A summary of a Java Flight Recorder file's CPU samples ({@code jdk.ExecutionSample}): the hottest
 * methods by self time (top frame), and by inclusive time (anywhere on the stack), for the
 * benchmark's "what limits it" question.
 */
final class JfrTop {
  private JfrTop() {}

  static void print(Path jfr, int top, PrintStream out) throws IOException {
    Map<String, Integer> self = new HashMap<>();
    Map<String, Integer> inclusive = new HashMap<>();
    Map<String, Integer> threads = new HashMap<>();
    int samples = 0;
    for (RecordedEvent e : RecordingFile.readAllEvents(jfr)) {
      if (!e.getEventType().getName().equals("jdk.ExecutionSample")) {
        continue;
      }
      RecordedStackTrace st = e.getStackTrace();
      if (st == null || st.getFrames().isEmpty()) {
        continue;
      }
      samples++;
      List<RecordedFrame> frames = st.getFrames();
      self.merge(name(frames.get(0)), 1, Integer::sum);
      Set<String> seen = new HashSet<>();
      for (RecordedFrame f : frames) {
        String n = name(f);
        if (seen.add(n)) {
          inclusive.merge(n, 1, Integer::sum);
        }
      }
      String thread =
          e.getThread("sampledThread") == null
              ? "?"
              : String.valueOf(e.getThread("sampledThread").getJavaName())
                  .replaceAll("[0-9]+", "N");
      threads.merge(thread, 1, Integer::sum);
    }
    out.printf("profile %s: %d CPU samples%n", jfr, samples);
    printTop(out, "  by thread (numbers folded)", threads, samples, 8);
    printTop(out, "  self (top frame)", self, samples, top);
    printTop(out, "  inclusive", inclusive, samples, top);
  }

  private static String name(RecordedFrame f) {
    return f.getMethod().getType().getName() + "." + f.getMethod().getName();
  }

  private static void printTop(
      PrintStream out, String title, Map<String, Integer> counts, int total, int top) {
    out.println(title + ":");
    counts.entrySet().stream()
        .sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
        .limit(top)
        .forEach(
            e ->
                out.printf(
                    "    %5.1f%%  %s%n", 100.0 * e.getValue() / Math.max(1, total), e.getKey()));
  }

  public static void main(String[] args) throws IOException {
    print(Path.of(args[0]), args.length > 1 ? Integer.parseInt(args[1]) : 30, System.out);
  }
}
