package dev.kappabeam.benchmarks;

import dev.kappabeam.devstack.KafkaTopics;
import dev.kappabeam.generator.GeneratedRecord;
import dev.kappabeam.generator.WorkloadGenerator;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The benchmark's reference workload and its topics: {@value #PARTITIONS} partitions, records keyed
 * by user (Kafka's default partitioner), generated from a fixed seed, so a topic loaded once can be
 * reused by later runs when its end offsets add up to the size.
 */
final class ReferenceWorkload {
  static final long SEED = 20261125L;
  static final int PARTITIONS = 4;
  static final int USERS = 20_000;
  static final int ITEMS = 500;
  static final double EVENTS_PER_SECOND = 100;
  static final double OUT_OF_ORDER = 0.05;
  static final double LATE = 0.005;
  static final double DUPLICATES = 0.02;
  static final double MALFORMED = 0.02;

  /** Bump when the settings above change, so old topics are not reused. */
  private static final String REVISION = "r1";

  private ReferenceWorkload() {}

  static WorkloadGenerator generator(int count) {
    return WorkloadGenerator.seeded(SEED)
        .withCount(count)
        .withUsers(USERS)
        .withItems(ITEMS)
        .withEventsPerSecond(EVENTS_PER_SECOND)
        .withOutOfOrderFraction(OUT_OF_ORDER)
        .withLateFraction(LATE)
        .withTooLateFraction(0.0)
        .withDuplicateFraction(DUPLICATES)
        .withMalformedFraction(MALFORMED);
  }

  static String describe() {
    return String.format(
        "seed %d, %d users, %d items (Zipf-skewed), event time from %s at %.0f events/s,"
            + " %.1f%% out of order (<= 5 s), %.1f%% late (15 s..10 min, within the 1 h"
            + " lateness), 0%% too late, %.1f%% duplicates (byte-identical re-sends),"
            + " %.1f%% malformed; %d partitions, key = user_id",
        SEED,
        USERS,
        ITEMS,
        WorkloadGenerator.DEFAULT_START,
        EVENTS_PER_SECOND,
        OUT_OF_ORDER * 100,
        LATE * 100,
        DUPLICATES * 100,
        MALFORMED * 100,
        PARTITIONS);
  }

  static String topic(int count) {
    return "bench-" + REVISION + "-" + count;
  }

  /**
   * Ensures {@code topic(count)} holds exactly the workload of {@code count} records (plus its
   * {@code .dlq} and {@code .late} topics); reuses it when its end offsets add up to {@code count},
   * else (re)creates and loads it.
   */
  static String ensureLoaded(String bootstrapServers, int count, PrintStream out) throws Exception {
    String topic = topic(count);
    KafkaTopics.ensure(bootstrapServers, topic + ".dlq", PARTITIONS);
    KafkaTopics.ensure(bootstrapServers, topic + ".late", PARTITIONS);
    Optional<Integer> partitions = KafkaTopics.partitions(bootstrapServers, topic);
    if (partitions.isPresent()) {
      long records = endOffsetSum(bootstrapServers, topic, partitions.get());
      if (records == count && partitions.get() == PARTITIONS) {
        out.printf("topic %s: reused (%,d records already loaded)%n", topic, records);
        return topic;
      }
      out.printf("topic %s: holds %,d records, not %,d: reloading%n", topic, records, count);
      KafkaTopics.delete(bootstrapServers, List.of(topic));
      Thread.sleep(2_000);
    }
    KafkaTopics.ensure(bootstrapServers, topic, PARTITIONS);
    long t0 = System.nanoTime();
    List<GeneratedRecord> records = generator(count).generate();
    long t1 = System.nanoTime();
    produce(bootstrapServers, topic, records);
    long t2 = System.nanoTime();
    out.printf(
        "topic %s: loaded %,d records (generated in %.1f s, produced in %.1f s)%n",
        topic, records.size(), (t1 - t0) / 1e9, (t2 - t1) / 1e9);
    long loaded = endOffsetSum(bootstrapServers, topic, PARTITIONS);
    if (loaded != count) {
      throw new IllegalStateException(
          "topic " + topic + " holds " + loaded + " records after loading " + count);
    }
    return topic;
  }

  /** Fast batched idempotent producer: large batches, lz4-free (consumers pay no decompression). */
  static void produce(String bootstrapServers, String topic, List<GeneratedRecord> records)
      throws InterruptedException, ExecutionException {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "20");
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, String.valueOf(512 << 10));
    p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, String.valueOf(256L << 20));
    p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "5");
    AtomicReference<Exception> failure = new AtomicReference<>();
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (GeneratedRecord r : records) {
        producer.send(
            new ProducerRecord<>(topic, r.key(), r.value()),
            (md, e) -> {
              if (e != null) {
                failure.compareAndSet(null, e);
              }
            });
        if (failure.get() != null) {
          break;
        }
      }
      producer.flush();
    }
    if (failure.get() != null) {
      throw new ExecutionException("producing to " + topic + " failed", failure.get());
    }
  }

  static long endOffsetSum(String bootstrapServers, String topic, int partitions)
      throws InterruptedException, ExecutionException {
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
      Map<TopicPartition, OffsetSpec> req = new java.util.HashMap<>();
      for (int i = 0; i < partitions; i++) {
        req.put(new TopicPartition(topic, i), OffsetSpec.latest());
      }
      ListOffsetsResult res = admin.listOffsets(req);
      long sum = 0;
      for (ListOffsetsResult.ListOffsetsResultInfo info : res.all().get().values()) {
        sum += info.offset();
      }
      return sum;
    }
  }
}
