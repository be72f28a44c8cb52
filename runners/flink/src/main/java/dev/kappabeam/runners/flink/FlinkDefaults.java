package dev.kappabeam.runners.flink;

import java.util.List;

/**
 * The Flink runner flags kappa-beam runs with unless the caller sets them: the defaults of Beam's
 * {@code FlinkPipelineOptions} that do not suit these pipelines.
 *
 * <ul>
 *   <li>{@code --fasterCopy=true}: Flink otherwise deep-copies every element (encode + decode with
 *       its coder) between chained operators. Every kappa-beam transform treats its elements as
 *       immutable (the DirectRunner tests enforce it), so the copy is pure cost; Beam's Flink
 *       runner warns about it on every run.
 * </ul>
 *
 * <p>Deliberately <em>not</em> defaulted:
 *
 * <ul>
 *   <li>{@code --attachedMode}: keep Beam's default ({@code true}) for historical and drained
 *       streaming runs on the embedded MiniCluster ({@code --flinkMaster=[local]}): {@code run()}
 *       then returns when the job is done, with its metrics. With {@code --attachedMode=false} the
 *       per-job MiniCluster shuts down as soon as the job ends and Beam's {@code
 *       FlinkDetachedRunnerResult.getState()} then fails with "MiniCluster is not yet running or
 *       has already been shut down". Only an open-ended streaming run on {@code [local]} needs
 *       {@code --attachedMode=false}, or {@code run()} never returns.
 *   <li>{@code --parallelism}: the cluster's default on {@code flink run}, the number of cores on
 *       {@code [local]}.
 *   <li>{@code --checkpointingInterval}: off unless asked for. With checkpointing on, Beam keeps
 *       finished sources alive ({@code --shutdownSourcesAfterIdleMs} then defaults to unlimited),
 *       so a drained streaming run never ends; pass {@code --shutdownSourcesAfterIdleMs=0} with it.
 * </ul>
 *
 * <p>Applied through {@link FlinkRunnerSupport} by {@code RunnerSupports.withDefaults}, as the CLI
 * and the pipeline's {@code main} do:
 *
 * <pre>{@code
 * List<String> args = RunnerSupports.withDefaults(List.of("--runner=FlinkRunner", ...));
 * }</pre>
 */
public final class FlinkDefaults {
  /** The default flags, each {@code --name=value}. */
  public static final List<String> FLAGS = List.of("--fasterCopy=true");

  private FlinkDefaults() {}
}
