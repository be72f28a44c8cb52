package dev.kappabeam.runners.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kappabeam.devstack.LocalStack;
import dev.kappabeam.pipelines.kafka.KafkaOffsets;
import dev.kappabeam.runners.testkit.plugin.ParcelViews;
import dev.kappabeam.serving.StoreConfig;
import dev.kappabeam.serving.ViewDiff;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.views.ViewProvider;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.apache.beam.sdk.values.Row;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * A team's plug-in jar on a runner's shaded jar: a local stack (Kafka broker + H2) holding parcel
 * events in the plug-in's own JSON shape, the plug-in ({@link ParcelViews}) packed into a jar of
 * its own with its {@code META-INF/services} entry, runs of {@code java -cp <shaded jar>[:<plug-in
 * jar>] <main> ...} as a separate process, and the check that the plug-in's view equals rows
 * computed here from the records produced.
 *
 * <pre>{@code
 * PluginFixture f = PluginFixture.start(dir, "direct-plugin");
 * PluginFixture.Run r = f.runShadedJar(PluginFixture.shadedJar(), true, "p1", "--runner=DirectRunner", "--mode=HISTORICAL");
 * assertEquals(0, r.exitCode(), r.output());
 * f.assertViewEqualsOracle("p1");
 * }</pre>
 */
public final class PluginFixture implements AutoCloseable {
  /** The failsafe system property naming the module's shaded jar. */
  public static final String SHADED_JAR_PROPERTY = "kb.shaded.jar";

  /** The pipeline's main class, which every runner's shaded jar names in its manifest. */
  public static final String MAIN_CLASS = "dev.kappabeam.pipelines.KappaBeamPipeline";

  /** The plug-in's view: {@link ParcelViews#DELIVERED_PER_DEPOT}. */
  public static final String VIEW = ParcelViews.DELIVERED_PER_DEPOT.name();

  private static final Instant T0 = Instant.parse("2026-11-25T10:00:00Z");
  private static final List<String> DEPOTS = List.of("AMS", "BER", "CPH");

  private final LocalStack stack;
  private final ViewStore store;
  private final String topic;
  private final Path pluginJar;
  private final List<Row> expected;
  private final long expectedDeadLetters;

  private PluginFixture(
      LocalStack stack,
      ViewStore store,
      String topic,
      Path pluginJar,
      List<Row> expected,
      long expectedDeadLetters) {
    this.stack = stack;
    this.store = store;
    this.topic = topic;
    this.pluginJar = pluginJar;
    this.expected = expected;
    this.expectedDeadLetters = expectedDeadLetters;
  }

  /**
   * Starts a stack under {@code dir}, creates a two-partition topic (and its {@code .dlq} and
   * {@code .late} topics, which the pipeline's main does not create), produces the parcel events
   * and packs the plug-in jar.
   */
  public static PluginFixture start(Path dir, String topicPrefix) throws Exception {
    LocalStack stack = LocalStack.start(LocalStack.Config.of(dir.resolve("stack")).withFreePorts());
    try {
      String topic = topicPrefix + "-" + UUID.randomUUID().toString().substring(0, 8);
      for (String t : List.of(topic, topic + ".dlq", topic + ".late")) {
        stack.ensureTopic(t, 2);
      }
      Map<String, long[]> rows = new TreeMap<>();
      List<ProducerRecord<byte[], byte[]>> records = parcels(topic, rows);
      produce(stack.bootstrapServers(), records);
      Path jar = pack(dir.resolve("parcel-views.jar"), ParcelViews.class);
      ViewStore store =
          new ViewStore(StoreConfig.of(stack.jdbcUrl(), stack.jdbcUser(), stack.jdbcPassword()));
      return new PluginFixture(stack, store, topic, jar, expectedRows(rows), 2);
    } catch (Exception | Error e) {
      stack.close();
      throw e;
    }
  }

  /**
   * The shaded jar named by the {@value #SHADED_JAR_PROPERTY} system property (the runner module's
   * failsafe configuration sets it; the jar exists once the module's {@code package} phase ran).
   */
  public static Path shadedJar() {
    return shadedJar(SHADED_JAR_PROPERTY);
  }

  /** The shaded jar named by the system property {@code property}. */
  public static Path shadedJar(String property) {
    String p = System.getProperty(property);
    assertTrue(p != null && !p.isBlank(), "no -D" + property + " (run under failsafe)");
    Path jar = Path.of(p);
    assertTrue(Files.isRegularFile(jar), jar + " does not exist: run the module's package phase");
    return jar;
  }

  /**
   * Packs {@code providers} (each class with its nested and anonymous classes, read from the class
   * path) into {@code jar} with a {@code META-INF/services} entry naming them: a plug-in jar as a
   * team builds it.
   */
  @SafeVarargs
  public static Path pack(Path jar, Class<? extends ViewProvider>... providers) throws IOException {
    List<Class<?>> classes = new ArrayList<>();
    for (Class<?> p : providers) {
      addWithNested(p, classes);
    }
    try (OutputStream file = Files.newOutputStream(jar);
        JarOutputStream out = new JarOutputStream(file)) {
      for (Class<?> c : classes) {
        String name = c.getName().replace('.', '/');
        putClass(out, c, name);
        for (int i = 1; putClass(out, c, name + "$" + i); i++) {
          // its anonymous classes: Foo$1, Foo$2, ...
        }
      }
      out.putNextEntry(new JarEntry("META-INF/services/" + ViewProvider.class.getName()));
      StringBuilder services = new StringBuilder();
      for (Class<?> p : providers) {
        services.append(p.getName()).append('\n');
      }
      out.write(services.toString().getBytes(StandardCharsets.UTF_8));
      out.closeEntry();
    }
    return jar;
  }

  private static void addWithNested(Class<?> c, List<Class<?>> into) {
    into.add(c);
    for (Class<?> nested : c.getDeclaredClasses()) {
      addWithNested(nested, into);
    }
  }

  /** Writes {@code name}.class as found next to {@code c}; false if there is none. */
  private static boolean putClass(JarOutputStream out, Class<?> c, String name) throws IOException {
    String entry = name + ".class";
    try (InputStream in = c.getClassLoader().getResourceAsStream(entry)) {
      if (in == null) {
        return false;
      }
      out.putNextEntry(new JarEntry(entry));
      in.transferTo(out);
      out.closeEntry();
      return true;
    }
  }

  /** A finished process: its exit code and its output (stdout and stderr). */
  public record Run(int exitCode, String output) {}

  /**
   * Runs {@code java -cp <shadedJar>[:<plug-in jar>] <main> --views=<the plug-in's view>
   * --bootstrapServers=... --topic=... --jdbcUrl=... --jdbcUser=... --viewVersion=<version>
   * <flags>} and waits for it (at most five minutes).
   */
  public Run runShadedJar(Path shadedJar, boolean withPlugin, String version, String... flags)
      throws Exception {
    String classPath =
        withPlugin ? shadedJar + java.io.File.pathSeparator + pluginJar : shadedJar.toString();
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g",
                "-cp",
                classPath,
                MAIN_CLASS,
                "--views=" + VIEW,
                "--bootstrapServers=" + stack.bootstrapServers(),
                "--topic=" + topic,
                "--jdbcUrl=" + stack.jdbcUrl(),
                "--jdbcUser=" + stack.jdbcUser(),
                "--viewVersion=" + version));
    command.addAll(Arrays.asList(flags));
    Path log = Files.createTempFile(stack.dataDir(), "shaded-" + version, ".log");
    Process p =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!p.waitFor(5, TimeUnit.MINUTES)) {
      p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      fail(command + " did not finish in 5 minutes:\n" + tail(Files.readString(log)));
    }
    return new Run(p.exitValue(), Files.readString(log));
  }

  /** The end of a process's output, for messages. */
  public static String tail(String output) {
    return output.length() > 6000 ? "..." + output.substring(output.length() - 6000) : output;
  }

  /** The plug-in view's rows of {@code version} equal the rows computed from the records. */
  public void assertViewEqualsOracle(String version) {
    assertTrue(expected.size() >= 10, "the oracle should not be trivial: " + expected);
    List<Row> actual = store.readAll(ParcelViews.DELIVERED_PER_DEPOT, version);
    ViewDiff diff = ViewDiff.compare(ParcelViews.DELIVERED_PER_DEPOT, expected, actual);
    if (!diff.isEmpty()) {
      fail(VIEW + ": " + version + " differs from the oracle:\n" + diff.format("oracle", version));
    }
    assertEquals(expected, actual, VIEW + ": same rows, in key order");
  }

  /** The records the plug-in's format rejects reached the dead-letter topic, no more, no fewer. */
  public void assertDeadLetters() {
    try (KafkaOffsets kafka = new KafkaOffsets(stack.bootstrapServers())) {
      String dlq = topic + ".dlq";
      long n =
          kafka.offsets(kafka.partitions(dlq), OffsetSpec.latest()).values().stream()
              .mapToLong(Long::longValue)
              .sum();
      assertEquals(expectedDeadLetters, n, "records on " + dlq);
    }
  }

  /** The rows the plug-in's view should hold, computed from the records produced. */
  public List<Row> expected() {
    return expected;
  }

  /** The plug-in jar. */
  public Path pluginJar() {
    return pluginJar;
  }

  /** The running local stack. */
  public LocalStack stack() {
    return stack;
  }

  /** The serving store. */
  public ViewStore store() {
    return store;
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
   * Forty parcels over three depots, each shipped and (except every fifth) delivered 7 minutes
   * later; one delivery sent twice, one record that is not JSON and one whose weight is text (two
   * dead letters). Adds each delivered parcel to {@code rows} ("window depot" → {parcels, grams,
   * heaviest}).
   */
  private static List<ProducerRecord<byte[], byte[]>> parcels(
      String topic, Map<String, long[]> rows) {
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    long windowMillis = ParcelViews.WINDOW.getMillis();
    for (int i = 0; i < 40; i++) {
      String depot = DEPOTS.get(i % DEPOTS.size());
      long grams = 200 + (i * 337L) % 4000;
      Instant shipped = T0.plus(Duration.ofMinutes(3L * i));
      Instant delivered = shipped.plus(Duration.ofMinutes(7));
      boolean isDelivered = i % 5 != 4;
      for (String status : isDelivered ? List.of("shipped", "delivered") : List.of("shipped")) {
        String json =
            String.format(
                "{\"parcel_id\":\"p-%d\",\"depot\":{\"code\":\"%s\"},\"status\":\"%s\","
                    + "\"weight_grams\":%d,\"ts\":\"%s\"}",
                i, depot, status, grams, status.equals("shipped") ? shipped : delivered);
        records.add(record(topic, depot, json));
      }
      if (i == 11) {
        records.add(records.get(records.size() - 1)); // a producer's retry: counted once
      }
      if (isDelivered) {
        long ms = delivered.toEpochMilli();
        long[] r = rows.computeIfAbsent((ms - ms % windowMillis) + " " + depot, k -> new long[3]);
        r[0]++;
        r[1] += grams;
        r[2] = Math.max(r[2], grams);
      }
    }
    records.add(record(topic, "AMS", "not json"));
    records.add(
        record(
            topic,
            "BER",
            "{\"parcel_id\":\"p-99\",\"depot\":{\"code\":\"BER\"},\"status\":\"delivered\","
                + "\"weight_grams\":\"heavy\",\"ts\":\""
                + T0
                + "\"}"));
    return records;
  }

  private static List<Row> expectedRows(Map<String, long[]> rows) {
    List<Row> out = new ArrayList<>();
    rows.forEach(
        (windowAndDepot, v) -> {
          String[] k = windowAndDepot.split(" ");
          out.add(
              Row.withSchema(ParcelViews.DELIVERED_PER_DEPOT.schema())
                  .addValues(
                      new org.joda.time.Instant(Long.parseLong(k[0])), k[1], v[0], v[1], v[2])
                  .build());
        });
    return out;
  }

  private static ProducerRecord<byte[], byte[]> record(String topic, String key, String value) {
    return new ProducerRecord<>(
        topic, key.getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8));
  }

  private static void produce(String bootstrapServers, List<ProducerRecord<byte[], byte[]>> records)
      throws Exception {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (ProducerRecord<byte[], byte[]> r : records) {
        sent.add(producer.send(r));
      }
      producer.flush();
      for (Future<RecordMetadata> f : sent) {
        f.get(60, TimeUnit.SECONDS);
      }
    }
  }
}
