package dev.kappabeam.benchmarks;

import dev.kappabeam.devstack.KafkaTopics;
import dev.kappabeam.generator.GeneratedRecord;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.views.Views;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Streaming end-to-end latency on Flink: an open-ended streaming job of the reference pipeline (in
 * its own child JVM, Flink {@code [local]}, early panes every second) while the harness produces
 * the reference workload at a fixed rate, with event times = wall-clock time, plus probe events.
 *
 * <p>The measurement: every {@value #PROBE_INTERVAL_MS} ms the producer sends one probe event of a
 * user that occurs nowhere else ({@code probe-<run>-<i>}, type view, ts = now). Its latency is
 * {@code t_visible - t_send}, where {@code t_send} is the wall clock just before {@code send()} and
 * {@code t_visible} is the wall clock of the first poll of the serving table {@code
 * user_sessions__<version>} (every {@value #POLL_INTERVAL_MS} ms, one SQL query for all probe
 * users) that returns the probe user's session row. It covers the producer's batching, the broker,
 * the KafkaIO read, parse, de-duplication, the session window's early pane (processing-time delay
 * of {@code --earlyFiringInterval} after the first element), the bundle that carries the row to the
 * sink, the JDBC upsert and its commit, and up to one poll interval. Probes sent during the warm-up
 * are left out.
 */
final class LatencyRun {
  static final int PROBE_INTERVAL_MS = 100;
  static final int POLL_INTERVAL_MS = 50;

  record Settings(
      int rate,
      Duration duration,
      Duration warmUp,
      String earlyFiringInterval,
      int parallelism,
      List<String> extraFlags) {}

  private LatencyRun() {}

  static void run(
      String bootstrapServers,
      String jdbcUrl,
      String jdbcUser,
      String jdbcPassword,
      ViewStore store,
      Settings s,
      List<String> jvmOptions,
      String classpath,
      Path dir,
      PrintStream out)
      throws Exception {
    String run = Long.toString(System.currentTimeMillis(), 36);
    String topic = "bench-latency-" + run;
    String version = "bench_latency";
    KafkaTopics.ensure(bootstrapServers, topic, ReferenceWorkload.PARTITIONS);
    KafkaTopics.ensure(bootstrapServers, topic + ".dlq", ReferenceWorkload.PARTITIONS);
    KafkaTopics.ensure(bootstrapServers, topic + ".late", ReferenceWorkload.PARTITIONS);
    for (var v : Views.all()) {
      store.dropTable(v, version);
      store.createTable(v, version);
    }
    String table = ViewStore.tableName(Views.USER_SESSIONS, version);
    List<String> flags =
        new ArrayList<>(
            List.of(
                "--runner=FlinkRunner",
                "--flinkMaster=[local]",
                "--parallelism=" + s.parallelism(),
                "--attachedMode=false",
                "--mode=STREAMING",
                "--startFrom=earliest",
                "--earlyFiringInterval=" + s.earlyFiringInterval(),
                "--bootstrapServers=" + bootstrapServers,
                "--topic=" + topic,
                "--consumerGroup=bench-latency-" + run,
                "--jdbcUrl=" + jdbcUrl,
                "--jdbcUser=" + jdbcUser,
                "--viewVersion=" + version,
                "--jobName=bench-latency"));
    flags.addAll(s.extraFlags());
    out.println("latency: flags " + String.join(" ", flags));
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmOptions);
    cmd.add("-cp");
    cmd.add(classpath);
    cmd.add(ChildMain.class.getName());
    cmd.add("open");
    cmd.add(dir.resolve("latency.result").toString());
    cmd.addAll(flags);
    Files.createDirectories(dir);
    Path log = dir.resolve("flink-latency.log");
    Process job =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    Map<String, Long> sent = new ConcurrentHashMap<>();
    Map<String, Long> seen = new ConcurrentHashMap<>();
    AtomicBoolean polling = new AtomicBoolean(true);
    Thread poller =
        new Thread(() -> poll(jdbcUrl, jdbcUser, jdbcPassword, table, seen, polling), "poller");
    poller.setDaemon(true);
    poller.start();
    try (KafkaProducer<byte[], byte[]> producer = producer(bootstrapServers)) {
      // Warm up until the job answers: a probe per second until one is visible.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
      int w = 0;
      while (seen.keySet().stream().noneMatch(k -> k.startsWith("probe-w"))) {
        if (!job.isAlive()) {
          throw new IllegalStateException(
              "the streaming job exited: " + ChildRun.lastError(log) + " (log: " + log + ")");
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("no probe became visible within 180 s; see " + log);
        }
        sendProbe(producer, topic, "probe-w" + run + "-" + (w++), sent);
        Thread.sleep(1000);
      }
      out.printf("latency: job answers (first warm-up probe visible after %d s of probing)%n", w);
      int count = (int) (s.rate() * s.duration().toSeconds());
      List<GeneratedRecord> background =
          ReferenceWorkload.generator(count)
              .withStart(Instant.now().plusMillis(200))
              .withEventsPerSecond(s.rate())
              .withLateFraction(0.0)
              .generate();
      long t0 = System.nanoTime();
      long nextProbe = t0;
      long warmUpEnd = t0 + s.warmUp().toNanos();
      int probes = 0;
      List<String> measured = new ArrayList<>();
      for (int i = 0; i < background.size(); i++) {
        long due = t0 + (long) (i * 1e9 / s.rate());
        long now;
        while ((now = System.nanoTime()) < due) {
          if (now >= nextProbe) {
            break;
          }
          Thread.sleep(0, 200_000);
        }
        if (now >= nextProbe) {
          String id = "probe-" + run + "-" + (probes++);
          sendProbe(producer, topic, id, sent);
          if (now >= warmUpEnd) {
            measured.add(id);
          }
          nextProbe += TimeUnit.MILLISECONDS.toNanos(PROBE_INTERVAL_MS);
        }
        GeneratedRecord r = background.get(i);
        producer.send(new ProducerRecord<>(topic, r.key(), r.value()));
      }
      producer.flush();
      double produceSeconds = (System.nanoTime() - t0) / 1e9;
      long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (System.nanoTime() < waitUntil && !seen.keySet().containsAll(measured)) {
        Thread.sleep(100);
      }
      polling.set(false);
      List<Long> latencies = new ArrayList<>();
      int missing = 0;
      for (String id : measured) {
        Long v = seen.get(id);
        if (v == null) {
          missing++;
        } else {
          latencies.add(v - sent.get(id));
        }
      }
      Collections.sort(latencies);
      out.printf(
          "latency: produced %,d events in %.1f s (%.0f events/s target %d/s) + %d probes"
              + " (1 per %d ms); measured %d probes after a %d s warm-up, %d not visible within"
              + " 30 s after the end%n",
          background.size(),
          produceSeconds,
          background.size() / produceSeconds,
          s.rate(),
          probes,
          PROBE_INTERVAL_MS,
          measured.size(),
          s.warmUp().toSeconds(),
          missing);
      if (missing > 0) {
        out.printf(
            "latency: %d of %d probes were not visible 30 s after the producer stopped: the job"
                + " does not keep up with %d events/s on this machine (its lag grows), so the"
                + " percentiles below, if any, cover only the probes that made it%n",
            missing, measured.size(), s.rate());
      }
      if (latencies.isEmpty()) {
        out.printf(
            "RESULT latency flink-streaming rate=%d/s earlyFiring=%s NOT MEASURABLE (0 of %d"
                + " probes visible within 30 s after the end)%n",
            s.rate(), s.earlyFiringInterval(), measured.size());
      } else {
        out.printf(
            "RESULT latency flink-streaming rate=%d/s earlyFiring=%s p50=%d ms p90=%d ms p99=%d"
                + " ms max=%d ms (n=%d, missing=%d)%n",
            s.rate(),
            s.earlyFiringInterval(),
            pct(latencies, 50),
            pct(latencies, 90),
            pct(latencies, 99),
            latencies.get(latencies.size() - 1),
            latencies.size(),
            missing);
      }
    } finally {
      polling.set(false);
      job.descendants().forEach(ProcessHandle::destroy);
      job.destroy();
      if (!job.waitFor(20, TimeUnit.SECONDS)) {
        job.destroyForcibly();
      }
      for (var v : Views.all()) {
        store.dropTable(v, version);
      }
      KafkaTopics.delete(bootstrapServers, List.of(topic, topic + ".dlq", topic + ".late"));
    }
  }

  static long pct(List<Long> sorted, int p) {
    int idx = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, idx)));
  }

  private static KafkaProducer<byte[], byte[]> producer(String bootstrapServers) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
  }

  private static void sendProbe(
      KafkaProducer<byte[], byte[]> producer, String topic, String id, Map<String, Long> sent) {
    long now = System.currentTimeMillis();
    String json =
        "{\"event_id\":\""
            + id
            + "\",\"user_id\":\""
            + id
            + "\",\"type\":\"view\",\"ts\":\""
            + Instant.ofEpochMilli(now)
            + "\"}";
    sent.put(id, now);
    producer.send(
        new ProducerRecord<>(
            topic, id.getBytes(StandardCharsets.UTF_8), json.getBytes(StandardCharsets.UTF_8)));
  }

  private static void poll(
      String jdbcUrl,
      String user,
      String password,
      String table,
      Map<String, Long> seen,
      AtomicBoolean polling) {
    try (Connection c = DriverManager.getConnection(jdbcUrl, user, password);
        Statement st = c.createStatement()) {
      while (polling.get()) {
        try (ResultSet rs =
            st.executeQuery("SELECT user_id FROM " + table + " WHERE user_id LIKE 'probe-%'")) {
          long now = System.currentTimeMillis();
          while (rs.next()) {
            seen.putIfAbsent(rs.getString(1), now);
          }
        }
        Thread.sleep(POLL_INTERVAL_MS);
      }
    } catch (Exception e) {
      if (polling.get()) {
        System.err.println("latency poller failed: " + e);
      }
    }
  }
}
