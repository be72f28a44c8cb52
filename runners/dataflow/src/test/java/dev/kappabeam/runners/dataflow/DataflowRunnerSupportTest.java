package dev.kappabeam.runners.dataflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.pipelines.runner.RunnerSupports;
import dev.kappabeam.pipelines.runner.UnsupportedRunException;
import dev.kappabeam.pipelines.sinks.ServingSinks;
import dev.kappabeam.runners.dataflow.bigquery.BigQueryServingOptions;
import dev.kappabeam.runners.dataflow.bigquery.BigQueryViewSink;
import dev.kappabeam.transforms.views.Views;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Registration, refusals and the BigQuery store's options, without a broker or a cloud. */
class DataflowRunnerSupportTest {
  private static final List<String> BASE =
      List.of(
          "--runner=DataflowRunner",
          "--project=kappa-beam-offline",
          "--region=europe-west1",
          "--topic=events",
          "--viewVersion=v1");

  private static KappaBeamOptions options(String... more) {
    List<String> args = new ArrayList<>(BASE);
    args.addAll(Arrays.asList(more));
    return PipelineOptionsFactory.fromArgs(RunnerSupports.withDefaults(args).toArray(new String[0]))
        .withValidation()
        .as(KappaBeamOptions.class);
  }

  @Test
  void registeredForDataflowRunner() {
    assertInstanceOf(
        DataflowRunnerSupport.class, RunnerSupports.find("DataflowRunner").orElseThrow());
    assertEquals(
        List.of(),
        RunnerSupports.find("DataflowRunner").orElseThrow().defaultFlags(),
        "streaming is inferred by Dataflow from the unbounded read, so no --streaming default");
  }

  @Test
  void reachableBrokerAndBigQueryStoreAreAccepted() {
    RunnerSupports.check(
        options(
            "--bootstrapServers=kafka-1.internal:9092,kafka-2.internal:9092",
            "--servingStore=bigquery",
            "--bigQueryDataset=serving"));
    RunnerSupports.check(
        options(
            "--bootstrapServers=10.0.0.5:9092",
            "--jdbcUrl=jdbc:postgresql://10.1.2.3:5432/serving"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"localhost:19092", "127.0.0.1:19092", "kafka:9092,[::1]:9092"})
  void loopbackBrokerIsRefused(String servers) {
    UnsupportedRunException e =
        assertThrows(
            UnsupportedRunException.class,
            () ->
                RunnerSupports.check(
                    options(
                        "--bootstrapServers=" + servers,
                        "--servingStore=bigquery",
                        "--bigQueryDataset=serving")));
    assertTrue(e.getMessage().contains("loopback"), e.getMessage());
    assertTrue(e.getMessage().contains("--bootstrapServers"), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "jdbc:h2:tcp://localhost:19094/kb",
        "jdbc:h2:tcp://127.0.0.1:19094/./kb",
        "jdbc:h2:mem:kb",
        "jdbc:h2:./data/kb",
        "jdbc:postgresql://localhost:5432/serving"
      })
  void servingDatabaseOnlyThisMachineReachesIsRefused(String url) {
    UnsupportedRunException e =
        assertThrows(
            UnsupportedRunException.class,
            () ->
                RunnerSupports.check(options("--bootstrapServers=kafka:9092", "--jdbcUrl=" + url)));
    assertTrue(e.getMessage().contains("--servingStore=bigquery"), e.getMessage());
  }

  /** Writing a job specification starts no worker, so the local stack may be named. */
  @Test
  void templateOnlyRunMayNameLocalAddresses() {
    RunnerSupports.check(
        options(
            "--bootstrapServers=127.0.0.1:19092",
            "--jdbcUrl=jdbc:h2:tcp://localhost:19094/kb",
            "--templateLocation=/tmp/job.json"));
  }

  @Test
  void hostParsing() {
    assertEquals("::1", Reachability.host("[::1]:9092"));
    assertEquals("kafka", Reachability.host("kafka:9092"));
    assertEquals(Optional.empty(), Reachability.loopbackHost("kafka:9092, broker-2:9093"));
    assertEquals(
        Optional.empty(),
        Reachability.unreachableJdbcUrl("jdbc:postgresql://user@db.internal:5432/x?ssl=true"));
  }

  @Test
  void bigQueryOptionsAreRegisteredAndSelectTheBigQuerySink() {
    KappaBeamOptions o =
        options(
            "--bootstrapServers=kafka:9092",
            "--servingStore=bigquery",
            "--bigQueryProject=analytics",
            "--bigQueryDataset=serving");
    assertEquals("serving", o.as(BigQueryServingOptions.class).getBigQueryDataset());
    BigQueryViewSink sink =
        assertInstanceOf(BigQueryViewSink.class, ServingSinks.sink(o, Views.USER_SESSIONS));
    assertEquals("analytics", sink.table().getProjectId());
    assertEquals("serving", sink.table().getDatasetId());
    assertEquals("user_sessions__v1", sink.table().getTableId());
  }

  @Test
  void bigQueryStoreWithoutDatasetSaysWhatToPass() {
    KappaBeamOptions o = options("--bootstrapServers=kafka:9092", "--servingStore=bigquery");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> ServingSinks.sink(o, Views.USER_SESSIONS));
    assertTrue(e.getMessage().contains("--bigQueryDataset"), e.getMessage());
  }

  @Test
  void bigQueryProjectDefaultsToTheJobProject() {
    KappaBeamOptions o =
        options("--bootstrapServers=kafka:9092", "--servingStore=bigquery", "--bigQueryDataset=s");
    BigQueryViewSink sink = (BigQueryViewSink) ServingSinks.sink(o, Views.ACTIVITY_PER_MINUTE);
    assertEquals("kappa-beam-offline", sink.table().getProjectId());
  }
}
