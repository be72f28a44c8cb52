package dev.kappabeam.devstack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;
import org.junit.jupiter.api.io.TempDir;

/** The local stack against a real broker and a real H2 server, across a restart. */
class LocalStackIT {
  private static final Duration DEADLINE = Duration.ofSeconds(30);
  private static final String TOPIC = "events";
  private static final String GROUP = "it-group";
  private static final String KEY = "u-17";
  private static final String VALUE =
      "{\"event_id\":\"e-000001\",\"user_id\":\"u-17\",\"type\":\"view\","
          + "\"ts\":\"2026-11-25T10:00:00.123Z\"}";
  private static final String UPSERT =
      "MERGE INTO view_rows t USING (VALUES (?, ?)) AS s(k, v) ON t.k = s.k"
          + " WHEN MATCHED AND s.v > t.v THEN UPDATE SET v = s.v"
          + " WHEN NOT MATCHED THEN INSERT (k, v) VALUES (s.k, s.v)";

  @TempDir Path dataDir;

  @Test
  void restartOnSameDataDirKeepsTopicsRecordsOffsetsAndTables(TestReporter reporter)
      throws Exception {
    LocalStack.Config config = LocalStack.Config.of(dataDir).withFreePorts();
    String clusterId;
    int partition;
    List<Integer> firstPorts;

    long started = System.nanoTime();
    try (LocalStack stack = LocalStack.start(config)) {
      reporter.publishEntry("firstStartMillis", Long.toString(millisSince(started)));
      clusterId = stack.clusterId();
      firstPorts = List.of(stack.kafkaPort(), stack.controllerPort(), stack.h2Port());
      assertEquals("127.0.0.1:" + stack.kafkaPort(), stack.bootstrapServers());

      assertTrue(stack.ensureTopic(TOPIC, 3));
      assertEquals(Optional.of(3), KafkaTopics.partitions(stack.bootstrapServers(), TOPIC));

      partition = produce(stack, KEY, VALUE).partition();
      try (KafkaConsumer<String, String> consumer = consumer(stack, GROUP)) {
        consumer.subscribe(List.of(TOPIC));
        ConsumerRecord<String, String> record = pollOne(consumer);
        assertEquals(KEY, record.key());
        assertEquals(VALUE, record.value());
        consumer.commitSync();
      }

      // Two connections, as two processes would have: writes through one, reads through the other.
      try (Connection writer = stack.openConnection();
          Connection reader = stack.openConnection()) {
        try (Statement ddl = writer.createStatement()) {
          ddl.execute("CREATE TABLE view_rows (k VARCHAR(64) PRIMARY KEY, v BIGINT NOT NULL)");
        }
        upsert(writer, "a", 5);
        upsert(writer, "a", 3); // lower value: the WHEN MATCHED AND condition keeps 5
        upsert(writer, "a", 7);
        upsert(writer, "b", 1);
        assertEquals(Map.of("a", 7L, "b", 1L), rows(reader));
      }
    }
    assertPortsFreed(firstPorts);
    // Kafka writes this marker only at the end of a controlled shutdown (SIGTERM, not a kill).
    assertTrue(Files.exists(dataDir.resolve("kafka-data/.kafka_cleanshutdown")));

    // Fresh free ports on purpose: a restart must not depend on the previous ports.
    LocalStack restartedStack;
    long restarted = System.nanoTime();
    try (LocalStack stack = LocalStack.start(config)) {
      reporter.publishEntry("restartMillis", Long.toString(millisSince(restarted)));
      assertEquals(clusterId, stack.clusterId());
      assertEquals(Optional.of(3), KafkaTopics.partitions(stack.bootstrapServers(), TOPIC));
      assertFalse(stack.ensureTopic(TOPIC, 3), "the topic survived, so nothing is created");

      try (Admin admin = Admin.create(stack.kafkaClientConfig())) {
        Map<TopicPartition, OffsetAndMetadata> committed =
            admin.listConsumerGroupOffsets(GROUP).partitionsToOffsetAndMetadata().get();
        assertEquals(1L, committed.get(new TopicPartition(TOPIC, partition)).offset());
      }
      try (KafkaConsumer<String, String> consumer = consumer(stack, "it-replay")) {
        consumer.assign(List.of(new TopicPartition(TOPIC, partition)));
        consumer.seekToBeginning(consumer.assignment());
        ConsumerRecord<String, String> record = pollOne(consumer);
        assertEquals(KEY, record.key());
        assertEquals(VALUE, record.value());
        assertEquals(0L, record.offset());
      }

      try (Connection reader = stack.openConnection()) {
        assertEquals(Map.of("a", 7L, "b", 1L), rows(reader));
      }
      restartedStack = stack;
    }
    assertFalse(restartedStack.isBrokerAlive());
    assertPortsFreed(
        List.of(
            restartedStack.kafkaPort(), restartedStack.controllerPort(), restartedStack.h2Port()));
  }

  /**
   * A broker restart within a running stack (the fault suite's broker outage): refused while it is
   * down, then back on the same port with the same cluster id, topics, records and offsets.
   */
  @Test
  void brokerStoppedAndStartedAgainServesTheSameLogOnTheSamePort(TestReporter reporter)
      throws Exception {
    try (LocalStack stack = LocalStack.start(LocalStack.Config.of(dataDir).withFreePorts())) {
      String bootstrap = stack.bootstrapServers();
      String clusterId = stack.clusterId();
      long pid = stack.brokerPid();
      assertTrue(stack.ensureTopic(TOPIC, 2));
      RecordMetadata first = produce(stack, KEY, VALUE);

      assertTrue(stack.stopBroker(), "a controlled shutdown");
      assertFalse(stack.isBrokerAlive());
      assertFalse(Net.isListening(stack.kafkaPort(), 200), "connections are refused");
      assertThrows(IllegalStateException.class, stack::stopBroker);

      long restarting = System.nanoTime();
      stack.startBroker();
      reporter.publishEntry("brokerRestartMillis", Long.toString(millisSince(restarting)));
      assertTrue(stack.isBrokerAlive());
      assertTrue(stack.brokerPid() != pid, "a new broker JVM");
      assertEquals(bootstrap, stack.bootstrapServers());
      assertEquals(clusterId, stack.clusterId());
      assertThrows(IllegalStateException.class, stack::startBroker);
      assertEquals(Optional.of(2), KafkaTopics.partitions(bootstrap, TOPIC));
      RecordMetadata second = produce(stack, KEY, VALUE);
      assertEquals(first.partition(), second.partition());
      assertEquals(first.offset() + 1, second.offset(), "the log went on where it was");
    }
  }

  @Test
  void secondStackOnSameDataDirIsRefused() {
    try (LocalStack stack = LocalStack.start(LocalStack.Config.of(dataDir).withFreePorts())) {
      LocalStackException e =
          assertThrows(
              LocalStackException.class,
              () -> LocalStack.start(LocalStack.Config.of(dataDir).withFreePorts()).close());
      assertTrue(e.getMessage().contains("in use by another local stack"), e.getMessage());
      assertTrue(stack.isBrokerAlive());
    }
  }

  @Test
  void brokerThatCannotStartFailsWithItsOutputAndLeavesNothingRunning() throws Exception {
    // A lib dir that looks right but holds no real Kafka: the storage format JVM fails.
    Path fakeLib = Files.createDirectories(dataDir.resolve("fake-lib"));
    Files.writeString(fakeLib.resolve("kafka_2.13-0.0.0.jar"), "not a jar");
    LocalStack.Config config =
        LocalStack.Config.of(dataDir.resolve("stack")).withFreePorts().withBrokerLibDir(fakeLib);

    LocalStackException e = assertThrows(LocalStackException.class, () -> LocalStack.start(config));

    assertTrue(e.getMessage().contains("Formatting the Kafka storage"), e.getMessage());
    assertTrue(e.getMessage().contains("kafka.tools.StorageTool"), e.getMessage());
    // The lock and H2 were released: a new start gets past them to the same failure.
    LocalStackException again =
        assertThrows(LocalStackException.class, () -> LocalStack.start(config));
    assertTrue(again.getMessage().contains("Formatting the Kafka storage"), again.getMessage());
  }

  private static RecordMetadata produce(LocalStack stack, String key, String value)
      throws Exception {
    Map<String, Object> props = new HashMap<>(stack.kafkaClientConfig());
    props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
      return producer.send(new ProducerRecord<>(TOPIC, key, value)).get();
    }
  }

  private static KafkaConsumer<String, String> consumer(LocalStack stack, String group) {
    Map<String, Object> props = new HashMap<>(stack.kafkaClientConfig());
    props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    return new KafkaConsumer<>(props);
  }

  /** Polls until one record arrives or the deadline passes. */
  private static ConsumerRecord<String, String> pollOne(KafkaConsumer<String, String> consumer) {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (System.nanoTime() < deadline) {
      for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
        return record;
      }
    }
    throw new AssertionError("No record within " + DEADLINE.toSeconds() + " s");
  }

  private static void upsert(Connection connection, String key, long value) throws Exception {
    try (PreparedStatement statement = connection.prepareStatement(UPSERT)) {
      statement.setString(1, key);
      statement.setLong(2, value);
      statement.executeUpdate();
    }
  }

  private static Map<String, Long> rows(Connection connection) throws Exception {
    Map<String, Long> rows = new HashMap<>();
    try (Statement statement = connection.createStatement();
        ResultSet rs = statement.executeQuery("SELECT k, v FROM view_rows")) {
      while (rs.next()) {
        rows.put(rs.getString("k"), rs.getLong("v"));
      }
    }
    return rows;
  }

  static void assertPortsFreed(List<Integer> ports) {
    for (int port : ports) {
      awaitTrue(() -> Net.isFree(port), "port " + port + " to be freed");
    }
  }

  static void awaitTrue(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "Timed out after " + DEADLINE.toSeconds() + " s waiting for " + what);
      }
      LockSupport.parkNanos(Duration.ofMillis(50).toNanos());
    }
  }

  private static long millisSince(long startNanos) {
    return Duration.ofNanos(System.nanoTime() - startNanos).toMillis();
  }
}
