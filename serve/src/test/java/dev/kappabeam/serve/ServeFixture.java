package dev.kappabeam.serve;

import dev.kappabeam.devstack.LocalStack;
import dev.kappabeam.serving.CodeVersion;
import dev.kappabeam.serving.RegisteredVersion;
import dev.kappabeam.serving.StoreConfig;
import dev.kappabeam.serving.VersionCounters;
import dev.kappabeam.serving.ViewRegistry;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.Views;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.values.Row;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.joda.time.Instant;

/**
 * A real local stack (Kafka broker + H2 server) with view tables, registry rows, published counters
 * and committed consumer-group offsets written directly, and a {@link KbServer} over it.
 *
 * <p>One stack serves every test class of the JVM (a broker start is the slow part); each fixture
 * has its own H2 schema (the registry's alias is named after the view) and its own topic.
 */
final class ServeFixture implements AutoCloseable {
  static final Instant T0 = Instant.parse("2026-11-25T10:00:00Z");

  private static LocalStack shared;

  final String topic;
  final LocalStack stack;
  final StoreConfig config;
  final ViewStore store;
  final ViewRegistry registry;
  final VersionCounters counters;
  final KbServer server;
  private final HttpClient http = HttpClient.newHttpClient();

  /** A fixture in schema and topic {@code name} ({@code [a-z_]+}). */
  ServeFixture(String name) throws IOException, SQLException {
    this(name, ServerConfig.listen("127.0.0.1", 0));
  }

  /** A fixture in schema and topic {@code name}, its server started as {@code server} says. */
  ServeFixture(String name, ServerConfig server) throws IOException, SQLException {
    stack = sharedStack();
    topic = "events_" + name;
    try (Connection c = stack.openConnection();
        Statement st = c.createStatement()) {
      st.execute("CREATE SCHEMA IF NOT EXISTS " + name);
    }
    config =
        StoreConfig.of(stack.jdbcUrl() + ";SCHEMA=" + name, stack.jdbcUser(), stack.jdbcPassword());
    store = new ViewStore(config);
    registry = new ViewRegistry(config);
    counters = new VersionCounters(config);
    stack.ensureTopic(topic, 3);
    this.server = KbServer.start(new Backend(config, stack.bootstrapServers()), server);
  }

  private static synchronized LocalStack sharedStack() throws IOException {
    if (shared == null) {
      Path dir = Files.createTempDirectory("kb-serve-it");
      LocalStack stack = LocalStack.start(LocalStack.Config.of(dir).withFreePorts());
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    stack.close();
                    try (var files = Files.walk(dir)) {
                      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                    } catch (IOException e) {
                      // A temp directory left behind is harmless.
                    }
                  }));
      shared = stack;
    }
    return shared;
  }

  static Row activity(int minute, String type, long events, long users, long revenue) {
    return Row.withSchema(Views.ACTIVITY_PER_MINUTE.schema())
        .addValues(
            T0.plus(org.joda.time.Duration.standardMinutes(minute)), type, events, users, revenue)
        .build();
  }

  static Row session(String user, int startMinute, int endMinute, long events, long purchases) {
    return Row.withSchema(Views.USER_SESSIONS.schema())
        .addValues(
            user,
            T0.plus(org.joda.time.Duration.standardMinutes(startMinute)),
            T0.plus(org.joda.time.Duration.standardMinutes(endMinute)),
            events,
            purchases)
        .build();
  }

  /** Registers a version (building), creates its table and writes rows to it. */
  RegisteredVersion build(ViewDefinition view, String version, String fingerprint, List<Row> rows) {
    registry.register(
        RegisteredVersion.building(
            view.name(),
            version,
            topic,
            group(view, version),
            "earliest",
            "DirectRunner",
            "gap=PT30M",
            "test",
            fingerprint == null ? CodeVersion.fingerprint(view.name(), "gap", "test") : fingerprint,
            ""));
    store.createTable(view, version);
    store.apply(view, version, rows);
    return registry.get(view.name(), version).orElseThrow();
  }

  String group(ViewDefinition view, String version) {
    return "kappa-beam." + topic + "." + view.name() + "." + version;
  }

  /** Produces {@code n} records to one partition. */
  void produce(int partition, int n) {
    Properties p = new Properties();
    p.putAll(stack.kafkaClientConfig());
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
      for (int i = 0; i < n; i++) {
        producer.send(new ProducerRecord<>(topic, partition, "u-" + i, "{\"n\":" + i + "}"));
      }
      producer.flush();
    }
  }

  /** Commits offsets for a consumer group, as a job's KafkaIO commit would. */
  void commit(String group, Map<Integer, Long> offsets) throws Exception {
    Map<TopicPartition, OffsetAndMetadata> o = new HashMap<>();
    offsets.forEach((p, off) -> o.put(new TopicPartition(topic, p), new OffsetAndMetadata(off)));
    Map<String, Object> conf = new HashMap<>(stack.kafkaClientConfig());
    try (Admin admin = Admin.create(conf)) {
      admin.alterConsumerGroupOffsets(group, o).all().get(30, TimeUnit.SECONDS);
    }
  }

  HttpResponse<String> get(String path) throws Exception {
    return send(HttpRequest.newBuilder(URI.create(server.url() + path.substring(1))).GET());
  }

  HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return http.send(
        request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Override
  public void close() {
    server.close();
    counters.close();
    registry.close();
    store.close();
  }
}
