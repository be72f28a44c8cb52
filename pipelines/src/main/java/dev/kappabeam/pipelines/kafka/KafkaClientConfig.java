package dev.kappabeam.pipelines.kafka;

import java.io.IOException;
import java.io.Reader;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Where every Kafka client of a run connects, and with which extra settings: the bootstrap servers
 * and, by reference, a standard Kafka client properties file (security, TLS, SASL, tuning; what
 * {@code kafka-console-consumer --consumer.config} takes).
 *
 * <p>The file is read where a client is created, on the driver or on a worker, so only its path
 * travels in pipeline options and in serialized transforms; its values (passwords in {@code
 * sasl.jaas.config}, store passwords) never do. Its entries overlay kappa-beam's client defaults;
 * {@code bootstrap.servers} in the file is ignored here (the caller resolves it: see {@code kb
 * --kafka-config}); keys kappa-beam owns for correctness ({@link #OWNED_KEYS}) are refused.
 *
 * <pre>{@code
 * KafkaClientConfig kafka = KafkaClientConfig.of("broker:9093", "/etc/kb/client.properties");
 * kafka.validate(); // fails now, with one line, if the file is unreadable or invalid
 * Admin admin = Admin.create(kafka.clientConfig(Map.of()));
 * }</pre>
 */
public final class KafkaClientConfig implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Settings kappa-beam sets itself: a file that changes them would break offsets or records. */
  public static final Set<String> OWNED_KEYS =
      Set.of(
          ConsumerConfig.GROUP_ID_CONFIG,
          ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
          ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
          ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
          ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
          ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG);

  private final String bootstrapServers;
  private final @Nullable String file;

  private KafkaClientConfig(String bootstrapServers, @Nullable String file) {
    if (bootstrapServers == null || bootstrapServers.isBlank()) {
      throw new IllegalArgumentException("Kafka bootstrap servers are required");
    }
    this.bootstrapServers = bootstrapServers;
    this.file = file == null || file.isBlank() ? null : file;
  }

  /** Bootstrap servers only: the clients' defaults, no file. */
  public static KafkaClientConfig of(String bootstrapServers) {
    return new KafkaClientConfig(bootstrapServers, null);
  }

  /** Bootstrap servers and a client properties file ({@code null} for none). */
  public static KafkaClientConfig of(String bootstrapServers, @Nullable String file) {
    return new KafkaClientConfig(bootstrapServers, file);
  }

  public String bootstrapServers() {
    return bootstrapServers;
  }

  /** The properties file's path, as given. */
  public Optional<String> file() {
    return Optional.ofNullable(file);
  }

  /**
   * Reads the file now and checks that consumers and producers accept its settings; throws {@link
   * IllegalArgumentException} with one line naming the file and the problem, never a value.
   */
  public KafkaClientConfig validate() {
    Map<String, Object> consumer = clientConfig(Map.of());
    consumer.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    consumer.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    Map<String, Object> producer = clientConfig(Map.of());
    producer.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    producer.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    try {
      new ConsumerConfig(consumer);
      new ProducerConfig(producer);
    } catch (ConfigException e) {
      throw invalid(e.getMessage());
    }
    return this;
  }

  /**
   * A client configuration: {@code defaults}, overlaid with the file's settings, with these
   * bootstrap servers. Reads the file now.
   */
  public Map<String, Object> clientConfig(Map<String, ?> defaults) {
    Map<String, Object> config = overlay(defaults);
    config.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    return config;
  }

  /** {@link #clientConfig} as {@link Properties}. */
  public Properties properties(Map<String, ?> defaults) {
    Properties p = new Properties();
    p.putAll(clientConfig(defaults));
    return p;
  }

  /**
   * A configuration built elsewhere (by KafkaIO on a worker, bootstrap servers included) overlaid
   * with the file's settings. Reads the file now.
   */
  public Map<String, Object> overlay(Map<String, ?> base) {
    Map<String, Object> config = new HashMap<>(base);
    if (file != null) {
      for (Map.Entry<String, String> e : read(Path.of(file)).entrySet()) {
        if (!CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG.equals(e.getKey())) {
          config.put(e.getKey(), e.getValue());
        }
      }
    }
    return config;
  }

  /**
   * For {@code KafkaIO.Read.withConsumerFactoryFn}: KafkaIO's configuration overlaid with the file,
   * read on the worker when the consumer is created (KafkaIO displays the map given to {@code
   * withConsumerConfigUpdates}, so secrets must not go there).
   */
  public SerializableFunction<Map<String, Object>, Consumer<byte[], byte[]>> consumerFactory() {
    return new ConsumerFactory(this);
  }

  /**
   * {@link #consumerFactory()} whose consumers are kept between uses (see {@link PooledConsumers}):
   * for KafkaIO's splittable read, which opens a consumer each time a partition's read resumes.
   */
  public SerializableFunction<Map<String, Object>, Consumer<byte[], byte[]>>
      pooledConsumerFactory() {
    ConsumerFactory create = new ConsumerFactory(this);
    return config -> PooledConsumers.borrow(config, () -> create.apply(config));
  }

  /** For {@code KafkaIO.Write.withProducerFactoryFn}; see {@link #consumerFactory()}. */
  public SerializableFunction<Map<String, Object>, Producer<byte[], byte[]>> producerFactory() {
    return new ProducerFactory(this);
  }

  /**
   * The settings of a client properties file; {@link IllegalArgumentException} with one line when
   * it cannot be read, is not a properties file, or sets a key kappa-beam owns.
   */
  public static Map<String, String> read(Path file) {
    Properties p = new Properties();
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(in);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot read the Kafka client properties file "
              + file
              + " ("
              + e.getClass().getSimpleName()
              + (e.getMessage() == null || e.getMessage().equals(file.toString())
                  ? ""
                  : ": " + e.getMessage())
              + ")");
    } catch (IllegalArgumentException e) {
      // Properties.load: a malformed backslash-u escape; the message quotes no value.
      throw new IllegalArgumentException(
          "the Kafka client properties file "
              + file
              + " is not a valid properties file: "
              + e.getMessage());
    }
    Map<String, String> out = new HashMap<>();
    for (String key : p.stringPropertyNames()) {
      if (OWNED_KEYS.contains(key)) {
        throw new IllegalArgumentException(
            "the Kafka client properties file "
                + file
                + " sets "
                + key
                + ", which kappa-beam sets itself; remove it");
      }
      out.put(key, p.getProperty(key));
    }
    return out;
  }

  private IllegalArgumentException invalid(String why) {
    return new IllegalArgumentException(
        "the Kafka client properties file " + file + " is invalid: " + why);
  }

  @Override
  public String toString() {
    return "KafkaClientConfig{" + bootstrapServers + (file == null ? "" : ", file=" + file) + "}";
  }

  private static final class ConsumerFactory
      implements SerializableFunction<Map<String, Object>, Consumer<byte[], byte[]>> {
    private static final long serialVersionUID = 1L;
    private final KafkaClientConfig kafka;

    ConsumerFactory(KafkaClientConfig kafka) {
      this.kafka = kafka;
    }

    @Override
    public Consumer<byte[], byte[]> apply(Map<String, Object> config) {
      return new KafkaConsumer<>(
          kafka.overlay(config), new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }
  }

  private static final class ProducerFactory
      implements SerializableFunction<Map<String, Object>, Producer<byte[], byte[]>> {
    private static final long serialVersionUID = 1L;
    private final KafkaClientConfig kafka;

    ProducerFactory(KafkaClientConfig kafka) {
      this.kafka = kafka;
    }

    @Override
    public Producer<byte[], byte[]> apply(Map<String, Object> config) {
      return new KafkaProducer<>(
          kafka.overlay(config), new ByteArraySerializer(), new ByteArraySerializer());
    }
  }
}
