package dev.kappabeam.runners.dataflow;

import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.pipelines.runner.RunnerSupport;
import dev.kappabeam.pipelines.sinks.ServingSinks;
import java.util.List;
import java.util.Optional;
import org.apache.beam.runners.dataflow.options.DataflowPipelineOptions;

/**
 * What kappa-beam knows about {@code --runner=DataflowRunner}: no default flags, and refusals of
 * runs whose Kafka broker or serving database the Dataflow workers cannot reach.
 *
 * <p>No default flags, deliberately:
 *
 * <ul>
 *   <li>{@code --streaming}: Beam's {@code DataflowRunner.run} switches a job to streaming by
 *       itself when the pipeline has an unbounded {@code PCollection} ({@code
 *       containsUnboundedPCollection}). The streaming mode's KafkaIO read and the drained mode's
 *       {@code readSourceDescriptors} read both produce one, so both become streaming jobs; the
 *       historical mode's {@code KafkaRangeSource} is bounded, so it stays a batch job (the job
 *       specification test checks all three). Forcing {@code --streaming=true} would turn a
 *       historical replay into a streaming job that never scales to zero.
 *   <li>Workers, machine types, regions, Streaming Engine, Runner v2: deployment choices with
 *       Dataflow's own defaults; pass Dataflow's flags.
 * </ul>
 *
 * <p>Refused, because Dataflow workers run in Google Cloud and reach neither the launching
 * machine's loopback interface nor its embedded databases:
 *
 * <ul>
 *   <li>{@code --bootstrapServers} on a loopback address ({@code localhost}, {@code 127.x}, {@code
 *       ::1});
 *   <li>{@code --servingStore=jdbc} with an embedded H2 URL ({@code jdbc:h2:mem:}, {@code
 *       jdbc:h2:file:}, {@code jdbc:h2:~/...}) or a server URL on a loopback address (the local
 *       stack's {@code jdbc:h2:tcp://localhost/...}).
 * </ul>
 *
 * Both are allowed with {@code --templateLocation}: that run only writes a job specification and
 * starts no worker (the offline translation test relies on it).
 */
public final class DataflowRunnerSupport implements RunnerSupport {
  @Override
  public String runnerName() {
    return "DataflowRunner";
  }

  @Override
  public List<String> defaultFlags() {
    return List.of();
  }

  @Override
  public Optional<String> refusal(KappaBeamOptions options) {
    String template = options.as(DataflowPipelineOptions.class).getTemplateLocation();
    if (template != null && !template.isBlank()) {
      return Optional.empty();
    }
    Optional<String> broker = Reachability.loopbackHost(options.getBootstrapServers());
    if (broker.isPresent()) {
      return Optional.of(
          "--runner=DataflowRunner cannot read --bootstrapServers="
              + options.getBootstrapServers()
              + ": "
              + broker.get()
              + " is this machine's loopback address, which Dataflow workers (in Google Cloud)"
              + " cannot reach; give the brokers' addresses in the job's VPC (e.g. Managed Service"
              + " for Apache Kafka), or run locally with --runner=DirectRunner or FlinkRunner");
    }
    if (ServingSinks.JDBC.equals(options.getServingStore())) {
      Optional<String> why = Reachability.unreachableJdbcUrl(options.getJdbcUrl());
      if (why.isPresent()) {
        return Optional.of(
            "--runner=DataflowRunner cannot write to --jdbcUrl="
                + options.getJdbcUrl()
                + ": "
                + why.get()
                + ", which Dataflow workers (in Google Cloud) cannot reach; use"
                + " --servingStore=bigquery --bigQueryDataset=<dataset>, or a PostgreSQL server"
                + " the workers can reach (e.g. Cloud SQL: --jdbcUrl=jdbc:postgresql://10.x.y.z/db)");
      }
    }
    return Optional.empty();
  }
}
