package dev.kappabeam.kappa;

import dev.kappabeam.serving.JdbcUrls;
import dev.kappabeam.serving.RegisteredVersion;
import dev.kappabeam.serving.RegisteredVersion.Status;
import dev.kappabeam.serving.VersionCounters;
import dev.kappabeam.serving.ViewRegistry;
import dev.kappabeam.serving.ViewStoreException;
import java.lang.reflect.Method;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.beam.sdk.PipelineResult;

/**
 * The registry side of a job hosted by this kb process: records the job's start (runner, job id,
 * host, pid), beats every progress tick, and tells the caller to stop the job when none of its
 * versions is building or live any more (another controller retired it at a cutover: that is how a
 * cutover stops the previous version's job in another process). A job whose host died keeps its
 * {@code running} state with a stale heartbeat: {@code kb status} reports it dead.
 *
 * <p>How a job ends is recorded once: {@code done} when it finished, {@code stopped} only when a
 * stop was asked for (Ctrl-C, SIGTERM, a retirement), {@code failed} with its cause for anything
 * else. When the registry cannot be reached to record a failure, kb says so on stderr; the job's
 * heartbeat then goes stale and {@code kb status} shows it dead.
 */
public final class JobHost {
  /** A heartbeat older than this (or a local pid that is gone) means the hosting process died. */
  public static final Duration DEFAULT_STALE_AFTER = Duration.ofSeconds(15);

  private final ViewRegistry registry;
  private final String jobId;
  private final List<RegisteredVersion> versions;
  private VersionCounters counters;
  private boolean ended;
  private volatile boolean stopRequested;

  private JobHost(ViewRegistry registry, String jobId, List<RegisteredVersion> versions) {
    this.registry = registry;
    this.jobId = jobId;
    this.versions = List.copyOf(versions);
  }

  /** Publishes the job's counters to {@code counters} (for kb serve and its metrics). */
  public JobHost publishingTo(VersionCounters counters) {
    this.counters = counters;
    return this;
  }

  /** Publishes the job's current counters for each of its versions; best effort. */
  public void publish(Map<String, Long> values) {
    if (counters != null) {
      try {
        counters.publish(versions, values);
      } catch (RuntimeException e) {
        // The serving store is briefly unreachable: the next beat publishes again.
      }
    }
  }

  /** Records that {@code result} builds {@code versions} in this process. */
  public static JobHost started(
      ViewRegistry registry, List<RegisteredVersion> versions, String runner, PipelineResult r) {
    String jobId = jobId(runner, r);
    registry.jobStarted(versions, runner, jobId, host(), ProcessHandle.current().pid());
    return new JobHost(registry, jobId, versions);
  }

  public String jobId() {
    return jobId;
  }

  /** Beats; false when the job should stop because its versions are retired or dropped. */
  public boolean beat() {
    List<RegisteredVersion> versions = registry.heartbeat(jobId);
    return versions.isEmpty()
        || versions.stream()
            .anyMatch(v -> v.status() == Status.BUILDING || v.status() == Status.LIVE);
  }

  /** Records the job's end state once. */
  public synchronized void ended(String state) {
    if (!ended) {
      ended = true;
      try {
        registry.jobEnded(jobId, state);
        if (counters != null) {
          counters.close();
        }
      } catch (RuntimeException e) {
        // Best effort (e.g. on shutdown): a missing end shows as a stale heartbeat.
      }
    }
  }

  /**
   * A stop was asked for (a shutdown hook on Ctrl-C or SIGTERM, about to cancel the job): whatever
   * the job does next is recorded as {@code stopped}, not as a failure.
   */
  public void stopRequested() {
    stopRequested = true;
  }

  /** Whether a stop was asked for (see {@link #stopRequested()}). */
  public boolean isStopRequested() {
    return stopRequested;
  }

  /** Whether the job's end is recorded already (or being recorded). */
  public synchronized boolean hasEnded() {
    return ended;
  }

  /**
   * Records that the job failed, with {@code cause}, unless its end is recorded already or a stop
   * was asked for (then {@code stopped}). When the registry cannot be reached (it rides out an
   * outage for the store's grace first), says so on stderr: the heartbeat stops with this process,
   * so {@code kb status} shows the job dead.
   */
  public synchronized void failed(String cause) {
    if (ended) {
      return;
    }
    ended = true;
    String state = stopRequested ? RegisteredVersion.STOPPED : RegisteredVersion.FAILED;
    try {
      registry.jobEnded(
          jobId, state, stopRequested ? null : dev.kappabeam.serving.JdbcUrls.redact(cause));
    } catch (RuntimeException e) {
      System.err.println(
          "kb: cannot record the failure of job "
              + jobId
              + " in the view registry ("
              + dev.kappabeam.serving.JdbcUrls.redact(String.valueOf(e.getMessage()))
              + "); its heartbeat stops with this process, so kb status shows it dead after "
              + DEFAULT_STALE_AFTER.toSeconds()
              + " s");
    }
    if (counters != null) {
      counters.close();
    }
  }

  /**
   * Whether the job of a registered version still runs: recorded running, a fresh heartbeat, and,
   * when it is hosted on this machine, its process still exists.
   */
  public static boolean alive(RegisteredVersion v, Duration staleAfter) {
    if (!v.jobAlive(Instant.now(), staleAfter)) {
      return false;
    }
    if (host().equals(v.jobHost()) && v.jobPid() != null) {
      return ProcessHandle.of(v.jobPid()).map(ProcessHandle::isAlive).orElse(false);
    }
    return true;
  }

  /** One word for a version's job: running, dead, stopped, done, failed, or none. */
  public static String describe(RegisteredVersion v, Duration staleAfter) {
    if (v.jobState() == null) {
      return "none";
    }
    if (RegisteredVersion.RUNNING.equals(v.jobState())) {
      return alive(v, staleAfter) ? "running" : "dead";
    }
    return v.jobState();
  }

  public static String host() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "localhost";
    }
  }

  /** The runner's job id where it has one (Flink), else a local id for this process's job. */
  private static String jobId(String runner, PipelineResult r) {
    try {
      Method m = r.getClass().getMethod("getJobId");
      Object id = m.invoke(r);
      if (id != null) {
        return runner.replace("Runner", "").toLowerCase(java.util.Locale.ROOT) + "-" + id;
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      // No job id on this runner's result: use a local one.
    }
    return runner.replace("Runner", "").toLowerCase(java.util.Locale.ROOT)
        + "-"
        + UUID.randomUUID().toString().substring(0, 8);
  }

  /** What to tell the user about stopping {@code v}'s job now that it was retired. */
  public static String stopHint(RegisteredVersion v, Duration stale) {
    String state = JobHost.describe(v, stale);
    if (!"running".equals(state)) {
      return v.version() + "'s job: " + state + " (nothing to stop)";
    }
    String hint =
        v.version()
            + "'s job "
            + v.jobId()
            + " (pid "
            + v.jobPid()
            + " on "
            + v.jobHost()
            + ") stops itself within a few seconds: its kb process sees the version retired";
    if (v.jobId() != null && v.jobId().startsWith("flink-")) {
      hint +=
          "; a job on a remote Flink cluster: flink cancel "
              + v.jobId().substring("flink-".length());
    }
    return hint;
  }

  /**
   * One line saying why a run failed: the serving store's message when the store is the cause
   * (outage, refused statement), else the innermost message, credentials masked.
   */
  public static String failureCause(Throwable e) {
    String innermost = null;
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof ViewStoreException && t.getMessage() != null) {
        return JdbcUrls.redact(t.getMessage());
      }
      if (t.getMessage() != null) {
        innermost = t.getClass().getSimpleName() + ": " + t.getMessage();
      }
    }
    return JdbcUrls.redact(innermost == null ? e.toString() : innermost);
  }

  /**
   * Registers a JVM shutdown hook (Ctrl-C, SIGTERM) that stops {@code result}'s job and records it
   * as stopped; {@link #removeHook} takes it back once the job ended otherwise.
   */
  public Thread stopOnExit(PipelineResult result) {
    Thread hook =
        new Thread(
            () -> {
              stopRequested();
              cancelQuietly(result);
              ended(RegisteredVersion.STOPPED);
            });
    Runtime.getRuntime().addShutdownHook(hook);
    return hook;
  }

  /** Removes a hook of {@link #stopOnExit}; a JVM already shutting down runs it anyway. */
  public static void removeHook(Thread hook) {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // The hook runs: a stop was asked for.
    }
  }

  /** Cancels the job, best effort (it may have ended, or its runner be gone). */
  public static void cancelQuietly(PipelineResult result) {
    try {
      result.cancel();
    } catch (Exception e) {
      // Best effort.
    }
  }
}
