package dev.kappabeam.kappa;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricResults;
import org.joda.time.Duration;

/**
 * A pipeline started on a background thread, seen as a {@link PipelineResult} at once, so kb can
 * print live progress while a runner's {@code run()} blocks until the job ends (Flink attached, the
 * mode of historical and drained runs). Until {@code run()} returns, the state is RUNNING and
 * metrics are unavailable; afterwards every call goes to the runner's own result. A {@code run()}
 * that throws makes the state FAILED and {@link #waitUntilFinish} rethrow.
 *
 * <p>Once {@link #cancel()} was called, a runner result that can no longer answer counts as
 * CANCELLED: Beam's {@code FlinkDetachedRunnerResult} on the embedded cluster throws "MiniCluster
 * is not yet running or has already been shut down" as soon as the cancelled job is gone.
 */
public final class AsyncRun implements PipelineResult {
  private final CompletableFuture<PipelineResult> started;
  private volatile boolean cancelled;

  private AsyncRun(CompletableFuture<PipelineResult> started) {
    this.started = started;
  }

  /** Runs {@code pipeline} on a daemon thread named after it. */
  public static AsyncRun start(Pipeline pipeline, String name) {
    CompletableFuture<PipelineResult> future = new CompletableFuture<>();
    Thread thread =
        new Thread(
            () -> {
              try {
                future.complete(pipeline.run());
              } catch (Throwable t) {
                future.completeExceptionally(t);
              }
            },
            "kb-run-" + name);
    thread.setDaemon(true);
    thread.start();
    return new AsyncRun(future);
  }

  /** Whether the runner's {@code run()} has returned (the job may still run when detached). */
  public boolean launched() {
    return started.isDone();
  }

  /** The runner's own result once {@code run()} returned, for its job id. */
  public PipelineResult runnerResult() {
    return started.getNow(null);
  }

  @Override
  public State getState() {
    if (!started.isDone()) {
      return State.RUNNING;
    }
    if (started.isCompletedExceptionally()) {
      return State.FAILED;
    }
    try {
      return started.join().getState();
    } catch (RuntimeException e) {
      if (cancelled) {
        return State.CANCELLED;
      }
      throw e;
    }
  }

  @Override
  public State cancel() throws IOException {
    cancelled = true;
    if (!started.isDone()) {
      // The runner has not handed out its result yet (an attached run): ending this JVM ends it.
      return State.RUNNING;
    }
    return started.join().cancel();
  }

  @Override
  public State waitUntilFinish(Duration duration) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(duration.getMillis());
    PipelineResult result;
    try {
      result = started.get(duration.getMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      return null;
    } catch (ExecutionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : new RuntimeException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
    long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
    try {
      return result.waitUntilFinish(Duration.millis(Math.max(1, left)));
    } catch (RuntimeException e) {
      if (cancelled) {
        return State.CANCELLED;
      }
      throw e;
    }
  }

  @Override
  public State waitUntilFinish() {
    return started.join().waitUntilFinish();
  }

  @Override
  public MetricResults metrics() {
    if (!started.isDone() || started.isCompletedExceptionally()) {
      throw new UnsupportedOperationException("the job's metrics are not available yet");
    }
    return started.join().metrics();
  }
}
