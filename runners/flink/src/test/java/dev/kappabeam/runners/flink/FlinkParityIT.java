package dev.kappabeam.runners.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kappabeam.devstack.LocalStack;
import dev.kappabeam.generator.GeneratedRecord;
import dev.kappabeam.generator.GeneratedRecord.Kind;
import dev.kappabeam.generator.Oracle;
import dev.kappabeam.generator.WorkloadGenerator;
import dev.kappabeam.pipelines.KappaBeamPipeline;
import dev.kappabeam.pipelines.RunPlan;
import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.serving.StoreConfig;
import dev.kappabeam.serving.ViewDiff;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.CounterNames;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.Views;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.beam.runners.flink.FlinkRunner;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricQueryResults;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.values.Row;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The parity fixture on Flink's embedded MiniCluster ({@code --flinkMaster=[local]}, parallelism 2)
 * against a real local stack (Kafka broker + H2): a generated workload with out-of-order,
 * late-within-lateness, duplicate and malformed records on three partitions of a four-partition
 * topic (the fourth stays empty) is built into one view version by a historical run and into
 * another by a drained streaming run; both must equal the oracle row for row, for every view, and
 * the counters must add up to what the oracle predicts.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class FlinkParityIT {
  private static final int PARTITIONS_WITH_DATA = 3;

  @TempDir static Path tempDir;

  private static LocalStack stack;
  private static ViewStore store;
  private static String topic;
  private static Oracle.Result expected;

  @BeforeAll
  static void produceWorkload() throws Exception {
    stack = LocalStack.start(LocalStack.Config.of(tempDir.resolve("stack")).withFreePorts());
    store = new ViewStore(StoreConfig.of(stack.jdbcUrl(), stack.jdbcUser(), stack.jdbcPassword()));
    topic = "flink-parity-" + UUID.randomUUID().toString().substring(0, 8);
    stack.ensureTopic(topic, PARTITIONS_WITH_DATA + 1);
    stack.ensureTopic(KappaBeamPipeline.deadLetterTopic(topicOptions()), PARTITIONS_WITH_DATA + 1);
    stack.ensureTopic(KappaBeamPipeline.lateTopic(topicOptions()), PARTITIONS_WITH_DATA + 1);

    List<GeneratedRecord> records =
        WorkloadGenerator.seeded(20261125L)
            .withCount(2000)
            .withOutOfOrderFraction(0.05)
            .withLateFraction(0.03)
            .withTooLateFraction(0.0)
            .withDuplicateFraction(0.03)
            .withMalformedFraction(0.03)
            .generate();
    Set<Kind> kinds = EnumSet.noneOf(Kind.class);
    records.forEach(r -> kinds.add(r.kind()));
    assertTrue(
        kinds.containsAll(List.of(Kind.OUT_OF_ORDER, Kind.LATE, Kind.DUPLICATE, Kind.MALFORMED)),
        "the workload must exercise every kind of trouble, got " + kinds);
    produce(records);
    expected = Oracle.computeFromRecords(records, ViewParameters.defaults());
    assertTrue(expected.duplicates() > 0 && expected.deadLettered() > 0, "oracle: " + expected);
  }

  @AfterAll
  static void stopStack() {
    try {
      if (store != null) {
        store.close();
      }
    } finally {
      if (stack != null) {
        stack.close();
      }
    }
  }

  @Test
  void historicalRunOnFlinkEqualsTheOracle() {
    PipelineResult result = runOnFlink("h1", "--mode=HISTORICAL");
    assertCounters(result, "historical h1");
    assertViewsEqualOracle("h1");
  }

  /** Streaming semantics (watermarks, lateness, dedup horizon) over the log, then drained. */
  @Test
  void drainedStreamingRunOnFlinkEqualsTheOracle() {
    PipelineResult result = runOnFlink("s1", "--mode=STREAMING", "--drainWhenCaughtUp=true");
    assertCounters(result, "drained streaming s1");
    assertViewsEqualOracle("s1");
  }

  /**
   * Runs the pipeline's own entry-point assembly on the embedded MiniCluster, attached (the
   * default): {@code run()} returns when the job is done, with its metrics.
   */
  private static PipelineResult runOnFlink(String version, String... modeFlags) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--runner=FlinkRunner",
                "--flinkMaster=[local]",
                "--parallelism=2",
                "--bootstrapServers=" + stack.bootstrapServers(),
                "--topic=" + topic,
                "--jdbcUrl=" + stack.jdbcUrl(),
                "--jdbcUser=" + stack.jdbcUser(),
                "--jdbcPassword=" + stack.jdbcPassword(),
                "--viewVersion=" + version,
                "--jobName=flink-parity-" + version));
    args.addAll(Arrays.asList(modeFlags));
    KappaBeamOptions options =
        PipelineOptionsFactory.fromArgs(FlinkDefaults.apply(args).toArray(new String[0]))
            .withValidation()
            .as(KappaBeamOptions.class);
    assertEquals(FlinkRunner.class, options.getRunner());
    for (ViewDefinition view : Views.all()) {
      store.createTable(view, version);
    }
    RunPlan plan = KappaBeamPipeline.plan(options);
    assertEquals(expected.read(), plan.totalRecords(), "records in the planned offset ranges");
    PipelineResult result = plan.pipeline().run();
    PipelineResult.State state = result.waitUntilFinish();
    assertEquals(PipelineResult.State.DONE, state, version + ": final state");
    return result;
  }

  private static void assertCounters(PipelineResult result, String what) {
    Map<String, Long> want = new LinkedHashMap<>();
    want.put(CounterNames.READ, expected.read());
    want.put(CounterNames.PARSED, expected.parsed());
    want.put(CounterNames.DEAD_LETTERED, expected.deadLettered());
    want.put(CounterNames.DUPLICATES_REMOVED, expected.duplicates());
    want.put(CounterNames.LATE, 0L);
    want.put(CounterNames.ACCEPTED, expected.accepted());
    Map<String, Long> got = new LinkedHashMap<>();
    want.keySet().forEach(k -> got.put(k, 0L));
    MetricQueryResults q = result.metrics().queryMetrics(MetricsFilter.builder().build());
    for (MetricResult<Long> c : q.getCounters()) {
      if (CounterNames.NAMESPACE.equals(c.getName().getNamespace())
          && got.containsKey(c.getName().getName())) {
        got.merge(c.getName().getName(), c.getAttempted(), Long::sum);
      }
    }
    assertEquals(want, got, what + ": counters");
  }

  private static void assertViewsEqualOracle(String version) {
    for (ViewDefinition view : Views.all()) {
      List<Row> oracle = expected.rows(view);
      assertTrue(oracle.size() > 1, view.name() + ": the oracle view should not be trivial");
      List<Row> actual = store.readAll(view, version);
      ViewDiff diff = ViewDiff.compare(view, oracle, actual);
      if (!diff.isEmpty()) {
        String text = diff.format("oracle", version);
        fail(
            view.name()
                + ": "
                + version
                + " differs from the oracle in "
                + diff.size()
                + " row(s):\n"
                + (text.length() > 4000 ? text.substring(0, 4000) + "..." : text));
      }
      assertEquals(oracle, actual, view.name() + ": same rows, in key order");
    }
  }

  /** Partitions 0..2 get the log (keyed records by user), partition 3 nothing. */
  private static void produce(List<GeneratedRecord> records) throws Exception {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < records.size(); i++) {
        GeneratedRecord r = records.get(i);
        int partition =
            r.key() == null
                ? i % PARTITIONS_WITH_DATA
                : Math.floorMod(Arrays.hashCode(r.key()), PARTITIONS_WITH_DATA);
        sent.add(producer.send(new ProducerRecord<>(topic, partition, r.key(), r.value())));
      }
      producer.flush();
      for (Future<RecordMetadata> f : sent) {
        f.get(60, TimeUnit.SECONDS);
      }
    }
  }

  private static KappaBeamOptions topicOptions() {
    KappaBeamOptions o = PipelineOptionsFactory.as(KappaBeamOptions.class);
    o.setTopic(topic);
    return o;
  }
}
