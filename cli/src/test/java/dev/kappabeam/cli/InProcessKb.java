package dev.kappabeam.cli;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs {@link Kb#execute} in this JVM and captures what it prints on standard output and standard
 * error (while still echoing it, so a failing test's report shows the run). One invocation at a
 * time: the capture swaps {@link System#out} and {@link System#err}.
 */
final class InProcessKb {
  private InProcessKb() {}

  /** Runs kb with these arguments. */
  static Result run(List<String> args) {
    return run(args.toArray(new String[0]));
  }

  /** Runs kb with these arguments. */
  static synchronized Result run(String... args) {
    PrintStream originalOut = System.out;
    PrintStream originalErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    long start = System.nanoTime();
    int code;
    try (PrintStream capturedOut = tee(out, originalOut);
        PrintStream capturedErr = tee(err, originalErr)) {
      System.setOut(capturedOut);
      System.setErr(capturedErr);
      try {
        code = Kb.execute(args);
      } finally {
        capturedOut.flush();
        capturedErr.flush();
        System.setOut(originalOut);
        System.setErr(originalErr);
      }
    }
    return new Result(
        List.of(args),
        code,
        out.toString(StandardCharsets.UTF_8),
        err.toString(StandardCharsets.UTF_8),
        Duration.ofNanos(System.nanoTime() - start));
  }

  /** Writes to the capture and to the original stream; closing it closes neither. */
  private static PrintStream tee(ByteArrayOutputStream capture, PrintStream original) {
    OutputStream both =
        new OutputStream() {
          @Override
          public void write(int b) {
            capture.write(b);
            original.write(b);
          }

          @Override
          public void write(byte[] b, int off, int len) {
            capture.write(b, off, len);
            original.write(b, off, len);
          }

          @Override
          public void flush() {
            original.flush();
          }

          @Override
          public void close() throws IOException {
            flush();
          }
        };
    return new PrintStream(both, true, StandardCharsets.UTF_8);
  }

  /** What one kb invocation returned and printed. */
  record Result(List<String> args, int exitCode, String out, String err, Duration elapsed) {

    /** The non-blank lines of standard error. */
    List<String> errLines() {
      return nonBlankLines(err);
    }

    /** The lines of standard error that start with {@code kb: error:}. */
    List<String> errorLines() {
      return errLines().stream().filter(l -> l.startsWith("kb: error:")).toList();
    }

    /**
     * The counters a {@code kb run} printed ({@code counters: read=.. parsed=.. ...}), by name, in
     * printed order. Fails the test if there is no counters line.
     */
    Map<String, Long> counters() {
      List<String> lines =
          nonBlankLines(out).stream().filter(l -> l.startsWith("counters:")).toList();
      if (lines.size() != 1) {
        fail("expected one counters line on stdout, found " + lines.size() + "\n" + describe());
      }
      Map<String, Long> counters = new LinkedHashMap<>();
      for (String token : lines.get(0).substring("counters:".length()).trim().split("\\s+")) {
        String[] kv = token.split("=", 2);
        if (kv.length != 2) {
          fail("malformed counters token '" + token + "' in: " + lines.get(0));
        }
        counters.put(kv[0], Long.parseLong(kv[1]));
      }
      return counters;
    }

    /** The invocation, its exit code, its stdout and the end of its stderr, for messages. */
    String describe() {
      String tail = err.length() > 6000 ? "..." + err.substring(err.length() - 6000) : err;
      return "kb "
          + String.join(" ", args)
          + "\n  -> exit "
          + exitCode
          + " after "
          + elapsed.toMillis()
          + " ms\n--- stdout ---\n"
          + out
          + "--- stderr ---\n"
          + tail;
    }

    private static List<String> nonBlankLines(String text) {
      List<String> out = new ArrayList<>();
      for (String l : Arrays.asList(text.split("\\R"))) {
        if (!l.isBlank()) {
          out.add(l);
        }
      }
      return out;
    }
  }
}
