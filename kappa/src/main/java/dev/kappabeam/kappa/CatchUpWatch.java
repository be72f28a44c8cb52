package dev.kappabeam.kappa;

import dev.kappabeam.pipelines.kafka.KafkaClientConfig;
import dev.kappabeam.pipelines.kafka.KafkaOffsets;
import dev.kappabeam.serving.CatchUp;
import dev.kappabeam.serving.ReadProgress;
import dev.kappabeam.serving.StoreConfig;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;

/**
 * Watches a streaming job catch up with its topic for {@code kb reprocess} and {@code kb speed}:
 * each {@link #tick()} reads the topic's end offsets and the group's committed offsets from Kafka,
 * what the job reported reading ({@link ReadProgress}, live on every runner) and the version's
 * table, feeds them to the shared {@link CatchUp} rule, and formats one progress line.
 */
public final class CatchUpWatch implements AutoCloseable {
  /** One tick: the rule's verdict, the read rate and a progress line. */
  public record Tick(CatchUp.Verdict verdict, double rate, String line) {}

  private final KafkaOffsets kafka;
  private final ReadProgress progress;
  private final String topic;
  private final String group;
  private final String runId;
  private final List<TopicPartition> partitions;
  private final CatchUp rule;
  private final Supplier<Object> table;
  private long lastRead = -1;
  private long lastNanos;
  private double rate;

  /**
   * @param start where the job starts reading each partition
   * @param table what changes when the version's output changes (e.g. its table's progress)
   */
  public CatchUpWatch(
      KafkaClientConfig kafkaClients,
      StoreConfig store,
      String topic,
      String group,
      String runId,
      Map<TopicPartition, Long> start,
      long maxLag,
      Duration hold,
      Supplier<Object> table) {
    this.kafka = new KafkaOffsets(kafkaClients);
    this.progress = new ReadProgress(store);
    this.topic = topic;
    this.group = group;
    this.runId = runId;
    this.partitions = kafka.partitions(topic);
    this.rule = CatchUp.of(byPartition(start), maxLag, hold);
    this.table = table;
  }

  /** Observes the job once. */
  public Tick tick() {
    Map<Integer, Long> end = byPartition(kafka.offsets(partitions, OffsetSpec.latest()));
    Map<Integer, Long> committed = byPartition(kafka.committed(group, partitions));
    Map<Integer, Long> read = new TreeMap<>();
    progress.read(group, topic, runId).forEach((p, pos) -> read.put(p, pos.nextOffset()));
    CatchUp.Verdict v =
        rule.observe(new CatchUp.Observation(Instant.now(), end, read, committed, table.get()));
    long now = System.nanoTime();
    if (lastRead >= 0) {
      double instant = (v.read() - lastRead) / Math.max(1e-3, (now - lastNanos) / 1e9);
      rate = rate == 0 ? instant : 0.5 * rate + 0.5 * instant;
    }
    lastRead = v.read();
    lastNanos = now;
    long remaining = v.remainingTotal();
    String eta =
        remaining == 0 ? "0 s" : rate < 1 ? "?" : String.format("%.0f s", remaining / rate);
    String line =
        String.format(
            "to read %,d %s, read %,d, %,.0f rec/s, ETA %s%s",
            remaining,
            v.remaining(),
            v.read(),
            rate,
            eta,
            v.steady() ? String.format(", caught up for %d s", v.steadyFor().toSeconds()) : "");
    return new Tick(v, rate, line);
  }

  private static Map<Integer, Long> byPartition(Map<TopicPartition, Long> offsets) {
    Map<Integer, Long> out = new TreeMap<>();
    offsets.forEach((tp, o) -> out.put(tp.partition(), o));
    return out;
  }

  @Override
  public void close() {
    try {
      progress.close();
    } finally {
      kafka.close();
    }
  }
}
