package dev.kappabeam.runners.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kappabeam.devstack.LocalStack;
import dev.kappabeam.generator.GeneratedRecord;
import dev.kappabeam.generator.GeneratedRecord.Kind;
import dev.kappabeam.generator.Oracle;
import dev.kappabeam.generator.WorkloadGenerator;
import dev.kappabeam.pipelines.KappaBeamPipeline;
import dev.kappabeam.pipelines.RunCounters;
import dev.kappabeam.pipelines.RunPlan;
import dev.kappabeam.pipelines.kafka.KafkaOffsets;
import dev.kappabeam.pipelines.kafka.PartitionRange;
import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.pipelines.options.RunMode;
import dev.kappabeam.pipelines.runner.RunnerSupports;
import dev.kappabeam.pipelines.sinks.KafkaSinks;
import dev.kappabeam.serving.ReadProgress;
import dev.kappabeam.serving.StoreConfig;
import dev.kappabeam.serving.ViewDiff;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.CounterNames;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.Views;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricQueryResults;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.values.Row;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The parity fixture every runner module tests with (the parity matrix): a local stack (Kafka
 * broker + H2) holding one generated workload (out-of-order, late-within-lateness, duplicate and
 * malformed records) on partitions 0..2 of a four-partition topic, partition 3 empty; runs of the
 * reference pipeline on the runner the caller names; and the checks that a view version equals the
 * oracle row for row and that the counters add up.
 *
 * <pre>{@code
 * ParityFixture f = ParityFixture.start(dir, "flink-parity", 2000);
 * PipelineResult r = f.run("h1", List.of("--runner=FlinkRunner", "--flinkMaster=[local]"), "--mode=HISTORICAL");
 * f.assertCounters(r, "historical h1");
 * f.assertViewsEqualOracle("h1");
 * }</pre>
 */
public final class ParityFixture implements AutoCloseable {
  private static final int PARTITIONS_WITH_DATA = 3;

  private final LocalStack stack;
  private final ViewStore store;
  private final String topic;
  private final Oracle.Result expected;
  private final List<GeneratedRecord> records;
  private List<GeneratedRecord> heldBack;

  private ParityFixture(
      LocalStack stack,
      ViewStore store,
      String topic,
      Oracle.Result expected,
      List<GeneratedRecord> records,
      int produced) {
    this.stack = stack;
    this.store = store;
    this.topic = topic;
    this.expected = expected;
    this.records = List.copyOf(records);
    this.heldBack = this.records.subList(produced, records.size());
  }

  /** Starts a stack under {@code dir} and produces the workload of {@code count} records. */
  public static ParityFixture start(Path dir, String topicPrefix, int count) throws Exception {
    return start(dir, topicPrefix, count, count, WorkloadGenerator.DEFAULT_START);
  }

  /**
   * Like {@link #start(Path, String, int)}, but produces only the first {@code produced} records of
   * the workload; {@link #produceRemaining()} produces the rest. The oracle covers all {@code
   * count}: for tests that stop and restart a job between the two parts. Event times start at
   * {@code eventTimeStart}: an open-ended streaming job advances the watermark of a caught-up
   * partition to processing time, so a workload it reads in parts must be recent, or the later part
   * is rightly found late.
   */
  public static ParityFixture start(
      Path dir, String topicPrefix, int count, int produced, Instant eventTimeStart)
      throws Exception {
    LocalStack stack = LocalStack.start(LocalStack.Config.of(dir).withFreePorts());
    try {
      ViewStore store =
          new ViewStore(StoreConfig.of(stack.jdbcUrl(), stack.jdbcUser(), stack.jdbcPassword()));
      String topic = topicPrefix + "-" + UUID.randomUUID().toString().substring(0, 8);
      stack.ensureTopic(topic, PARTITIONS_WITH_DATA + 1);
      stack.ensureTopic(topic + ".dlq", PARTITIONS_WITH_DATA + 1);
      stack.ensureTopic(topic + ".late", PARTITIONS_WITH_DATA + 1);
      List<GeneratedRecord> records =
          WorkloadGenerator.seeded(20261125L)
              .withStart(eventTimeStart)
              .withCount(count)
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
      produce(stack.bootstrapServers(), topic, records.subList(0, produced), 0);
      Oracle.Result expected = Oracle.computeFromRecords(records, ViewParameters.defaults());
      assertTrue(expected.duplicates() > 0 && expected.deadLettered() > 0, "oracle: " + expected);
      return new ParityFixture(stack, store, topic, expected, records, produced);
    } catch (Exception | Error e) {
      stack.close();
      throw e;
    }
  }

  /**
   * Builds the pipeline from flags as its {@code main} would (with the runner's {@link
   * RunnerSupports#withDefaults defaults}), creates the version's tables, runs it and waits for it;
   * fails unless it ends DONE. {@code runnerFlags} name the runner ({@code --runner=...}) and its
   * settings.
   */
  public PipelineResult run(String version, List<String> runnerFlags, String... modeFlags) {
    RunPlan plan = plan(version, runnerFlags, modeFlags);
    assertEquals(expected.read(), plan.totalRecords(), "records in the planned offset ranges");
    PipelineResult result = plan.pipeline().run();
    assertEquals(PipelineResult.State.DONE, result.waitUntilFinish(), version + ": final state");
    assertReportedReads(plan, version);
    return result;
  }

  /**
   * The job reported reading every planned range to its end ({@code kb_read_progress}, what kb's
   * live progress and catch-up rule use), on whichever runner ran it.
   */
  private void assertReportedReads(RunPlan plan, String version) {
    String runId = plan.pipeline().getOptions().as(KappaBeamOptions.class).getRunId();
    try (ReadProgress progress =
        new ReadProgress(StoreConfig.of(stack.jdbcUrl(), stack.jdbcUser(), stack.jdbcPassword()))) {
      Map<Integer, ReadProgress.Position> read = progress.read(plan.consumerGroup(), topic, runId);
      long records = 0;
      for (PartitionRange r : plan.ranges()) {
        if (r.end() > r.start()) {
          ReadProgress.Position p = read.get(r.partition());
          assertTrue(p != null, version + ": no read reported for partition " + r.partition());
          assertEquals(r.end(), p.nextOffset(), version + ": read position of " + r);
          records += p.records();
        }
      }
      assertTrue(
          records >= plan.totalRecords(),
          version + ": reported " + records + " records read of " + plan.totalRecords());
    }
  }

  /** Produces the records {@link #start(Path, String, int, int)} held back. */
  public void produceRemaining() throws Exception {
    produce(stack.bootstrapServers(), topic, heldBack, expected.read() - heldBack.size());
    heldBack = List.of();
  }

  /**
   * Builds the pipeline from flags as its {@code main} would (with the runner's defaults) and
   * creates the version's tables, without running it.
   */
  public RunPlan plan(String version, List<String> runnerFlags, String... modeFlags) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--bootstrapServers=" + stack.bootstrapServers(),
                "--topic=" + topic,
                "--jdbcUrl=" + stack.jdbcUrl(),
                "--jdbcUser=" + stack.jdbcUser(),
                "--viewVersion=" + version,
                "--jobName=parity-" + version));
    args.addAll(runnerFlags);
    args.addAll(Arrays.asList(modeFlags));
    KappaBeamOptions options =
        PipelineOptionsFactory.fromArgs(RunnerSupports.withDefaults(args).toArray(new String[0]))
            .withValidation()
            .as(KappaBeamOptions.class);
    assertEquals(
        RunnerSupports.runnerName(args),
        options.getRunner().getSimpleName(),
        "the runner the flags name");
    for (ViewDefinition view : Views.all()) {
      store.createTable(view, version);
    }
    return KappaBeamPipeline.plan(options);
  }

  /**
   * Options of a job over this fixture's topic as an application builds them: the runner flags with
   * the runner's defaults for the run's shape, the stack's broker and serving store; the caller
   * sets what the job reads and writes.
   */
  public KappaBeamOptions options(List<String> runnerFlags, RunMode mode, boolean drain) {
    List<String> args = new ArrayList<>(runnerFlags);
    args.add("--mode=" + mode);
    args.add("--drainWhenCaughtUp=" + drain);
    KappaBeamOptions o =
        PipelineOptionsFactory.fromArgs(
                RunnerSupports.withDefaults(args, Optional.of(stack.dataDir()))
                    .toArray(new String[0]))
            .as(KappaBeamOptions.class);
    o.setBootstrapServers(stack.bootstrapServers());
    o.setJdbcUrl(stack.jdbcUrl());
    o.setJdbcUser(stack.jdbcUser());
    return o;
  }

  /** The serving store's connection settings. */
  public StoreConfig storeConfig() {
    return StoreConfig.of(stack.jdbcUrl(), stack.jdbcUser(), stack.jdbcPassword());
  }

  /** The oracle of the whole workload computed with {@code parameters}. */
  public Oracle.Result expected(ViewParameters parameters) {
    return Oracle.computeFromRecords(records, parameters);
  }

  /** The running local stack (broker and serving database). */
  public LocalStack stack() {
    return stack;
  }

  /** The serving store the runs write to. */
  public ViewStore store() {
    return store;
  }

  /** The workload's topic (with {@code <topic>.dlq} and {@code <topic>.late}). */
  public String topic() {
    return topic;
  }

  /** Records on the late topic ({@code <topic>.late}), all versions together. */
  public long lateRecords() {
    try (KafkaOffsets kafka = new KafkaOffsets(stack.bootstrapServers())) {
      String late = topic + ".late";
      return kafka.offsets(kafka.partitions(late), OffsetSpec.latest()).values().stream()
          .mapToLong(Long::longValue)
          .sum();
    }
  }

  /**
   * The source coordinates ({@code partition/offset}, from the {@code kb.source.*} headers) of
   * every record on the dead-letter topic ({@code <topic>.dlq}), all versions together, copies
   * included: a run restarted from a checkpoint writes again the dead letters its lost attempt
   * wrote after that checkpoint (the Kafka sink is at-least-once).
   */
  public List<String> deadLetterSources() {
    String dlq = topic + ".dlq";
    List<String> out = new ArrayList<>();
    try (KafkaOffsets kafka = new KafkaOffsets(stack.bootstrapServers());
        KafkaConsumer<byte[], byte[]> consumer =
            new KafkaConsumer<>(
                Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers()),
                new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = kafka.partitions(dlq);
      Map<TopicPartition, Long> end = kafka.offsets(partitions, OffsetSpec.latest());
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
      while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
        assertTrue(System.nanoTime() < deadline, "reading " + dlq + " took over a minute");
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(java.time.Duration.ofSeconds(1))) {
          out.add(
              header(r, KafkaSinks.SOURCE_PARTITION) + "/" + header(r, KafkaSinks.SOURCE_OFFSET));
        }
      }
    }
    return out;
  }

  private static String header(ConsumerRecord<byte[], byte[]> r, String key) {
    org.apache.kafka.common.header.Header h = r.headers().lastHeader(key);
    return h == null ? "?" : new String(h.value(), java.nio.charset.StandardCharsets.UTF_8);
  }

  /** What the oracle computed from the workload. */
  public Oracle.Result expected() {
    return expected;
  }

  /** The counters of a run are exactly what the oracle predicts (nothing late, nothing lost). */
  public void assertCounters(PipelineResult result, String what) {
    Map<String, Long> want = new LinkedHashMap<>();
    want.put(CounterNames.READ, expected.read());
    want.put(CounterNames.PARSED, expected.parsed());
    want.put(CounterNames.DEAD_LETTERED, expected.deadLettered());
    want.put(CounterNames.DUPLICATES_REMOVED, expected.duplicates());
    want.put(CounterNames.LATE, 0L);
    want.put(CounterNames.ACCEPTED, expected.accepted());
    Map<String, Long> got = new LinkedHashMap<>(RunCounters.of(result, true));
    got.keySet().retainAll(want.keySet());
    MetricQueryResults q = result.metrics().queryMetrics(MetricsFilter.builder().build());
    StringBuilder reported = new StringBuilder();
    for (MetricResult<Long> c : q.getCounters()) {
      if (CounterNames.NAMESPACE.equals(c.getName().getNamespace())
          && got.containsKey(c.getName().getName())) {
        reported.append("\n  ").append(c.getKey()).append(" attempted=").append(c.getAttempted());
      }
    }
    assertEquals(want, got, what + ": counters; the runner reported:" + reported);
  }

  /** Every view of {@code version} equals the oracle, row for row and in key order. */
  public void assertViewsEqualOracle(String version) {
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

  @Override
  public void close() {
    try {
      store.close();
    } finally {
      stack.close();
    }
  }

  /**
   * Keyed records go to partition hash(user) mod 3, keyless ones round-robin over 0..2 by their
   * index in the workload ({@code first} is the index of {@code records.get(0)}).
   */
  private static void produce(
      String bootstrapServers, String topic, List<GeneratedRecord> records, long first)
      throws Exception {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
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
                ? (int) ((first + i) % PARTITIONS_WITH_DATA)
                : Math.floorMod(Arrays.hashCode(r.key()), PARTITIONS_WITH_DATA);
        sent.add(producer.send(new ProducerRecord<>(topic, partition, r.key(), r.value())));
      }
      producer.flush();
      for (Future<RecordMetadata> f : sent) {
        f.get(60, TimeUnit.SECONDS);
      }
    }
  }
}
