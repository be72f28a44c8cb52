package dev.kappabeam.devstack;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Starts, stops and inspects the local stack as a background process, for a CLI's {@code up},
 * {@code down} and {@code status}.
 *
 * <p>The background process is {@link LocalStackMain}, spawned with this JVM's classpath; the
 * rendezvous is its state file {@code <dataDir>/stack.properties} ({@link StackState}). A state
 * file whose process is gone is stale and is removed by every command here. Nothing is printed:
 * each command returns a small result for the caller to report.
 *
 * <pre>{@code
 * LocalStackControl.UpResult up = LocalStackControl.up(LocalStack.Config.of(root.resolve(".kb")),
 *     root.resolve(".kb/stack.log"));
 * System.out.println(up.state().bootstrapServers());
 * LocalStackControl.down(root.resolve(".kb"));
 * }</pre>
 */
public final class LocalStackControl {
  /**
   * Default deadline for {@link #up}: longer than the stack's own start timeout, so the stack's
   * error message (with the broker log) is what the caller sees.
   */
  public static final Duration DEFAULT_UP_TIMEOUT = Duration.ofSeconds(150);

  /** Default deadline for {@link #down}; the broker alone may take 30 s to stop cleanly. */
  public static final Duration DEFAULT_DOWN_TIMEOUT = Duration.ofSeconds(60);

  /** Heap of the background JVM, which holds H2 (the broker has its own). */
  private static final String MAIN_HEAP = "-Xmx512m";

  private static final String MAIN_CLASS = LocalStackMain.class.getName();
  private static final String BROKER_CLASS = "kafka.Kafka";
  private static final int PORT_PROBE_MILLIS = 500;

  private LocalStackControl() {}

  /** What {@link #up} found or started. */
  public record UpResult(boolean alreadyRunning, StackState state, Path logFile, Duration elapsed) {
    /** Checks the fields. */
    public UpResult {
      Objects.requireNonNull(state, "state");
      Objects.requireNonNull(elapsed, "elapsed");
    }
  }

  /** How {@link #down} ended. */
  public enum DownOutcome {
    /** The stack stopped cleanly on SIGTERM. */
    STOPPED,
    /** The stack did not stop within the deadline and was killed (broker included). */
    KILLED,
    /** No state file: nothing was running. */
    NOT_RUNNING,
    /** The state file named a dead process; it was removed (and any orphaned broker stopped). */
    STALE_STATE_REMOVED
  }

  /** What {@link #down} did; {@code pid} is -1 when there was no state file. */
  public record DownResult(DownOutcome outcome, long pid, Duration elapsed) {}

  /**
   * What {@link #status} saw: whether a live stack owns the data directory, its state, and whether
   * its Kafka and H2 ports accept connections right now.
   */
  public record StatusResult(
      boolean running,
      Optional<StackState> state,
      boolean kafkaAnswers,
      boolean h2Answers,
      boolean staleStateRemoved) {}

  /** {@link #up(LocalStack.Config, Path, Duration)} with {@link #DEFAULT_UP_TIMEOUT}. */
  public static UpResult up(LocalStack.Config config, Path logFile) {
    return up(config, logFile, DEFAULT_UP_TIMEOUT);
  }

  /**
   * Ensures a background stack runs on {@code config.dataDir()}: reports the live one if there is
   * one (its ports may differ from {@code config}), else spawns {@link LocalStackMain} detached,
   * with its output appended to {@code logFile}, and waits until it is ready.
   *
   * @throws LocalStackException if it exits or is not ready by the deadline (it is then stopped);
   *     the message quotes {@code logFile}
   */
  public static UpResult up(LocalStack.Config config, Path logFile, Duration timeout) {
    long started = System.nanoTime();
    Path dataDir = config.dataDir().toAbsolutePath().normalize();
    Optional<StackState> live = liveState(dataDir);
    if (live.isPresent()) {
      return new UpResult(true, live.get(), logFile, elapsedSince(started));
    }
    // Resolve the broker classpath here, so a missing build fails fast with its instructions.
    LocalStack.Config resolved =
        config.brokerLibDir().isPresent()
            ? config
            : config.withBrokerLibDir(LocalStack.findBrokerLibDir());
    Process process = spawn(resolved, logFile);
    long deadline = started + timeout.toNanos();
    try {
      while (true) {
        Optional<StackState> state = readQuietly(dataDir);
        if (state.isPresent() && isSpawned(state.get().pid(), process) && answers(state.get())) {
          return new UpResult(false, state.get(), logFile, elapsedSince(started));
        }
        if (!process.isAlive()) {
          throw new LocalStackException(
              "The local stack exited with code "
                  + process.exitValue()
                  + " before it was ready.\nLast lines of "
                  + logFile
                  + ":\n"
                  + LogTail.of(logFile, 40));
        }
        if (System.nanoTime() > deadline) {
          stop(process.toHandle(), Duration.ofSeconds(40));
          throw new LocalStackException(
              "The local stack was not ready within "
                  + timeout.toSeconds()
                  + " s and was stopped. Raise the timeout on a slow machine.\nLast lines of "
                  + logFile
                  + ":\n"
                  + LogTail.of(logFile, 40));
        }
        // Waits for the poll interval, or less if the process exits meanwhile.
        process.waitFor(200, TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      process.destroy();
      Thread.currentThread().interrupt();
      throw new LocalStackException("Interrupted while waiting for the local stack", e);
    }
  }

  /** {@link #down(Path, Duration)} with {@link #DEFAULT_DOWN_TIMEOUT}. */
  public static DownResult down(Path dataDir) {
    return down(dataDir, DEFAULT_DOWN_TIMEOUT);
  }

  /**
   * Stops the background stack of {@code dataDir}: SIGTERM, then waits for it to stop the broker
   * and exit; kills it (and its broker) if it is still alive at the deadline.
   */
  public static DownResult down(Path dataDir, Duration timeout) {
    long started = System.nanoTime();
    Path dir = dataDir.toAbsolutePath().normalize();
    Optional<StackState> state = StackState.read(dir);
    if (state.isEmpty()) {
      return new DownResult(DownOutcome.NOT_RUNNING, -1, elapsedSince(started));
    }
    long pid = state.get().pid();
    Optional<ProcessHandle> main = liveProcess(pid, MAIN_CLASS);
    if (main.isEmpty()) {
      stopOrphanedBroker(state.get());
      StackState.delete(dir);
      return new DownResult(DownOutcome.STALE_STATE_REMOVED, pid, elapsedSince(started));
    }
    boolean clean = stop(main.get(), timeout);
    if (!clean) {
      stopOrphanedBroker(state.get());
    }
    // A clean stop deletes the file itself; after a kill it is left behind.
    StackState.delete(dir);
    return new DownResult(
        clean ? DownOutcome.STOPPED : DownOutcome.KILLED, pid, elapsedSince(started));
  }

  /**
   * Reports whether a live stack owns {@code dataDir}, and whether its ports answer. A stale state
   * file is removed, after stopping the broker it names if that one outlived its stack.
   */
  public static StatusResult status(Path dataDir) {
    Path dir = dataDir.toAbsolutePath().normalize();
    Optional<StackState> state = StackState.read(dir);
    if (state.isEmpty()) {
      return new StatusResult(false, Optional.empty(), false, false, false);
    }
    if (liveProcess(state.get().pid(), MAIN_CLASS).isEmpty()) {
      // The broker pid is only known from this file, so an orphan is stopped before it goes.
      stopOrphanedBroker(state.get());
      StackState.delete(dir);
      return new StatusResult(false, Optional.empty(), false, false, true);
    }
    return new StatusResult(
        true,
        state,
        Net.isListening(state.get().kafkaPort(), PORT_PROBE_MILLIS),
        Net.isListening(state.get().h2Port(), PORT_PROBE_MILLIS),
        false);
  }

  /** The state of a live stack on {@code dataDir}; removes a stale state file. */
  private static Optional<StackState> liveState(Path dataDir) {
    Optional<StackState> state = StackState.read(dataDir);
    if (state.isPresent() && liveProcess(state.get().pid(), MAIN_CLASS).isEmpty()) {
      stopOrphanedBroker(state.get());
      StackState.delete(dataDir);
      return Optional.empty();
    }
    return state;
  }

  private static Process spawn(LocalStack.Config config, Path logFile) {
    List<String> command = new ArrayList<>();
    // setsid detaches the stack from the caller's terminal session, so closing the terminal or
    // Ctrl-C in the caller's shell does not reach it.
    for (String setsid : List.of("/usr/bin/setsid", "/bin/setsid")) {
      if (Files.isExecutable(Path.of(setsid))) {
        command.add(setsid);
        break;
      }
    }
    command.add(KafkaBroker.javaExecutable());
    command.add(MAIN_HEAP);
    // H2 reads its bind address when it loads: loopback only, set before any class of it loads.
    command.add("-D" + LocalStack.H2_BIND_ADDRESS_PROPERTY + "=" + Net.HOST);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(MAIN_CLASS);
    command.addAll(LocalStackMain.toArgs(config));
    try {
      Path log = logFile.toAbsolutePath();
      Files.createDirectories(log.getParent());
      Process process =
          new ProcessBuilder(command)
              .directory(Path.of("").toAbsolutePath().toFile())
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
              .start();
      process.getOutputStream().close();
      return process;
    } catch (IOException e) {
      throw new LocalStackException(
          "Could not start the local stack process (" + String.join(" ", command) + ")", e);
    }
  }

  /** Whether {@code pid} is the spawned process (or, if setsid forked, one of its children). */
  private static boolean isSpawned(long pid, Process process) {
    return pid == process.pid() || process.descendants().anyMatch(p -> p.pid() == pid);
  }

  private static boolean answers(StackState state) {
    return Net.isListening(state.kafkaPort(), PORT_PROBE_MILLIS)
        && Net.isListening(state.h2Port(), PORT_PROBE_MILLIS);
  }

  /** SIGTERM, wait up to {@code timeout}, then kill. Returns whether it stopped on SIGTERM. */
  private static boolean stop(ProcessHandle process, Duration timeout) {
    process.destroy();
    try {
      process.onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException e) {
      process.destroyForcibly();
      return false;
    } catch (ExecutionException e) {
      return !process.isAlive();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LocalStackException("Interrupted while stopping process " + process.pid(), e);
    }
  }

  /** Kills a broker left alive by a stack process that was itself killed. */
  private static void stopOrphanedBroker(StackState state) {
    liveProcess(state.brokerPid(), BROKER_CLASS)
        .ifPresent(broker -> stop(broker, Duration.ofSeconds(30)));
  }

  /**
   * The live process {@code pid} if its command line mentions {@code marker}; a recycled pid that
   * runs something else does not count. When the OS hides the command line, liveness decides.
   */
  private static Optional<ProcessHandle> liveProcess(long pid, String marker) {
    return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).filter(p -> mentions(p, marker));
  }

  /**
   * Whether the process's command line mentions {@code marker}. Java cuts the command line it
   * reports at 4096 characters and the CLI's classpath is longer, so on Linux the full line is read
   * from /proc; elsewhere a cut line counts as a match.
   */
  private static boolean mentions(ProcessHandle p, String marker) {
    Path cmdline = Path.of("/proc", Long.toString(p.pid()), "cmdline");
    if (Files.isReadable(cmdline)) {
      try {
        return new String(Files.readAllBytes(cmdline), java.nio.charset.StandardCharsets.UTF_8)
            .contains(marker);
      } catch (java.io.IOException e) {
        // Fall back to what Java reports.
      }
    }
    return p.info().commandLine().map(l -> l.contains(marker) || l.length() >= 4000).orElse(true);
  }

  private static Optional<StackState> readQuietly(Path dataDir) {
    try {
      return StackState.read(dataDir);
    } catch (LocalStackException e) {
      return Optional.empty();
    }
  }

  private static Duration elapsedSince(long startNanos) {
    return Duration.ofNanos(System.nanoTime() - startNanos);
  }
}
