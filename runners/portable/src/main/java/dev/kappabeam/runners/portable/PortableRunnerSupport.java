package dev.kappabeam.runners.portable;

import dev.kappabeam.pipelines.runner.RunnerSupport;
import java.util.List;

/**
 * The flags kappa-beam submits portable pipelines with unless the caller sets them.
 *
 * <ul>
 *   <li>{@code --defaultEnvironmentType=LOOPBACK}: the Java SDK harness that executes the
 *       pipeline's transforms runs inside the submitting JVM, which the job server's workers call
 *       back. Beam's default ({@code DOCKER}, the {@code apache/beam_java17_sdk} image) needs a
 *       Docker daemon on every worker; a cluster deployment sets {@code --defaultEnvironmentType}
 *       to {@code DOCKER}, {@code PROCESS} or {@code EXTERNAL} with its {@code
 *       --defaultEnvironmentConfig}.
 * </ul>
 */
public final class PortableRunnerSupport implements RunnerSupport {
  /** The default flags, each {@code --name=value}. */
  public static final List<String> FLAGS = List.of("--defaultEnvironmentType=LOOPBACK");

  @Override
  public String runnerName() {
    return "PortableRunner";
  }

  @Override
  public List<String> defaultFlags() {
    return FLAGS;
  }
}
