package dev.kappabeam.devstack;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.CommonClientConfigs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real local stack without Docker: a Kafka broker and the embedded H2 serving database.
 *
 * <p>The broker (Kafka 4.1.1, KRaft, combined broker and controller) runs as a child JVM with its
 * own classpath, materialized by the {@code devstack/broker} module, so its Kafka and Scala never
 * meet Beam's {@code kafka-clients} 3.9.x. H2 runs in this JVM as a TCP server, so several
 * processes (pipelines, the serving API, a SQL shell) share one database. Everything lives under
 * {@link Config#dataDir()}; a restart on the same directory keeps topics, records and tables. Both
 * servers bind to 127.0.0.1 only.
 *
 * <p>The stack holds the database open for its whole life through an embedded connection of its
 * own, so client sessions coming and going never open and close the database files (each close
 * compacts the store, the step that lost committed data in H2 2.3.x, h2database #4247). Commits are
 * written to the file when they return ({@code WRITE_DELAY 0}), so a {@code kill -9} of the stack
 * keeps every committed transaction. {@link #close()} closes the database once, deliberately:
 * clients are disconnected first, then {@code SHUTDOWN} runs; H2's own shutdown hook is disabled so
 * it cannot race that.
 *
 * <p>The database is created on first connection with the user {@value #JDBC_USER} and password
 * {@value #JDBC_PASSWORD}, in H2's PostgreSQL mode with lower-case identifiers, so the same SQL
 * (including standard {@code MERGE INTO ... USING}) runs here and on PostgreSQL.
 *
 * <p>As a test fixture:
 *
 * <pre>{@code
 * try (LocalStack stack = LocalStack.start(LocalStack.Config.of(tempDir).withFreePorts())) {
 *   stack.ensureTopic("events", 3);
 *   // produce to stack.bootstrapServers(), write to stack.jdbcUrl() ...
 * }
 * }</pre>
 *
 * <p>{@link #close()} stops the broker with SIGTERM (controlled shutdown, up to 30 s, then a kill),
 * then H2. If the JVM exits without closing the stack, a shutdown hook still stops the broker; the
 * database, H2's TCP server and the data directory lock end with the JVM, and the next start
 * recovers the database to its last commit.
 */
public final class LocalStack implements AutoCloseable {
  /** Default Kafka client port. */
  public static final int DEFAULT_KAFKA_PORT = 19092;

  /** Default KRaft controller port. */
  public static final int DEFAULT_CONTROLLER_PORT = 19093;

  /** Default H2 TCP server port. */
  public static final int DEFAULT_H2_PORT = 19094;

  /** Name of the H2 database, a file {@code <dataDir>/h2/kb.mv.db}. */
  public static final String DATABASE = "kb";

  /** Database user; the database is created with it on first connection. */
  public static final String JDBC_USER = "kb";

  /** Database password; a local development secret, not protection (only loopback connects). */
  public static final String JDBC_PASSWORD = "kb";

  /** System property naming the broker classpath directory. */
  public static final String BROKER_LIB_PROPERTY = "kb.broker.lib";

  /** Environment variable naming the broker classpath directory. */
  public static final String BROKER_LIB_ENV = "KB_BROKER_LIB";

  /** H2's system property for the address its servers bind to. */
  static final String H2_BIND_ADDRESS_PROPERTY = "h2.bindAddress";

  private static final Logger LOG = LoggerFactory.getLogger(LocalStack.class);
  private static final String BROKER_LIB_RELATIVE = "devstack/broker/target/lib";
  private static final Duration BROKER_STOP_GRACE = Duration.ofSeconds(30);

  static {
    // H2 reads its bind address once, from this system property, when its first class loads; the
    // TCP server then listens on loopback only instead of every interface.
    if (System.getProperty(H2_BIND_ADDRESS_PROPERTY) == null) {
      System.setProperty(H2_BIND_ADDRESS_PROPERTY, Net.HOST);
    }
  }

  /** The H2 release running in this JVM, e.g. {@code 2.4.240 (2024-...)}. */
  public static final String H2_VERSION = org.h2.engine.Constants.FULL_VERSION;

  private final Config config;
  private final Path dataDir;
  private final DataDirLock lock;
  private final ServingDatabase database;
  private final int h2Port;
  private final Path brokerLibDir;
  private final SecureListener secure;
  private final int securePort;
  private final Path clientSecureFile;
  private volatile KafkaBroker broker;
  private boolean closed;

  private LocalStack(
      Config config,
      Path dataDir,
      DataDirLock lock,
      ServingDatabase database,
      KafkaBroker broker,
      Path brokerLibDir,
      SecureListener secure,
      int securePort,
      Path clientSecureFile) {
    this.securePort = securePort;
    this.clientSecureFile = clientSecureFile;
    this.config = config;
    this.dataDir = dataDir;
    this.lock = lock;
    this.database = database;
    this.h2Port = database.port();
    this.broker = broker;
    this.brokerLibDir = brokerLibDir;
    this.secure = secure;
  }

  /**
   * Starts H2 and the Kafka broker and returns once both answer.
   *
   * <p>On first use of the data directory, formats the broker storage with a new cluster id
   * (persisted); later starts reuse the storage. Ports given as 0 are replaced by free ones. Fails
   * with a {@link LocalStackException} (after stopping whatever it started) if a port is taken, the
   * data directory is used by another stack, or the broker does not answer within {@link
   * Config#startTimeout()}; the message then quotes the broker's log.
   */
  public static LocalStack start(Config config) {
    Objects.requireNonNull(config, "config");
    Path dataDir = config.dataDir().toAbsolutePath().normalize();
    try {
      Files.createDirectories(dataDir);
    } catch (IOException e) {
      throw new LocalStackException("Cannot create the data directory " + dataDir, e);
    }
    Path libDir = config.brokerLibDir().orElseGet(LocalStack::findBrokerLibDir);
    checkBrokerLibDir(libDir, "the configured broker lib dir");
    DataDirLock lock = DataDirLock.acquire(dataDir);
    ServingDatabase h2 = null;
    KafkaBroker broker = null;
    try {
      int h2Port = config.h2Port();
      checkFree(h2Port, "H2", "withH2Port");
      h2 = ServingDatabase.open(databaseDir(dataDir), h2Port);
      int kafkaPort = config.kafkaPort() != 0 ? config.kafkaPort() : freePortOtherThan(h2.port());
      int controllerPort =
          config.controllerPort() != 0
              ? config.controllerPort()
              : freePortOtherThan(h2.port(), kafkaPort);
      if (kafkaPort == controllerPort || kafkaPort == h2.port() || controllerPort == h2.port()) {
        throw new LocalStackException(
            "The Kafka, controller and H2 ports must differ, got "
                + kafkaPort
                + ", "
                + controllerPort
                + ", "
                + h2.port());
      }
      checkFree(kafkaPort, "Kafka", "withKafkaPort");
      checkFree(controllerPort, "Kafka controller", "withControllerPort");
      int securePort = config.secureKafkaPort();
      SecureListener secure = null;
      if (securePort >= 0) {
        securePort =
            securePort != 0 ? securePort : freePortOtherThan(h2.port(), kafkaPort, controllerPort);
        if (securePort == kafkaPort || securePort == controllerPort || securePort == h2.port()) {
          throw new LocalStackException(
              "The secured Kafka port must differ from the others, got " + securePort);
        }
        checkFree(securePort, "Secured Kafka", "withSecureKafkaPort");
        secure =
            SecureListener.prepare(dataDir, System.nanoTime() + config.startTimeout().toNanos());
      }
      long brokerStart = System.nanoTime();
      boolean existingStorage =
          Files.exists(dataDir.resolve("kafka-data").resolve("meta.properties"));
      broker =
          KafkaBroker.start(
              dataDir,
              libDir,
              kafkaPort,
              controllerPort,
              secure,
              securePort,
              config.brokerHeapMb(),
              config.startTimeout());
      Path clientFile = null;
      if (secure != null) {
        clientFile =
            secure.createUserAndClientFile(
                dataDir,
                Net.HOST + ":" + kafkaPort,
                Net.HOST + ":" + securePort,
                System.nanoTime() + config.startTimeout().toNanos());
      }
      LOG.info(
          "Kafka broker ready on {} in {} ms ({}); H2 {} on port {}; data in {}",
          Net.HOST + ":" + kafkaPort,
          Duration.ofNanos(System.nanoTime() - brokerStart).toMillis(),
          existingStorage ? "existing storage" : "storage formatted",
          H2_VERSION,
          h2.port(),
          dataDir);
      return new LocalStack(
          config,
          dataDir,
          lock,
          h2,
          broker,
          libDir,
          secure,
          secure == null ? -1 : securePort,
          clientFile);
    } catch (RuntimeException | Error e) {
      if (broker != null) {
        broker.stop(BROKER_STOP_GRACE);
      }
      if (h2 != null) {
        h2.close();
      }
      lock.release();
      throw e;
    }
  }

  /**
   * Finds the broker classpath directory: the system property {@value #BROKER_LIB_PROPERTY}, else
   * the environment variable {@value #BROKER_LIB_ENV}, else {@code devstack/broker/target/lib} in
   * the working directory or one of its parents.
   *
   * @throws LocalStackException telling how to build it when none is found
   */
  public static Path findBrokerLibDir() {
    String property = System.getProperty(BROKER_LIB_PROPERTY);
    if (property != null && !property.isBlank()) {
      return checkBrokerLibDir(Path.of(property), "-D" + BROKER_LIB_PROPERTY);
    }
    String env = System.getenv(BROKER_LIB_ENV);
    if (env != null && !env.isBlank()) {
      return checkBrokerLibDir(Path.of(env), "$" + BROKER_LIB_ENV);
    }
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve(BROKER_LIB_RELATIVE);
      if (isBrokerLibDir(candidate)) {
        return candidate;
      }
    }
    throw new LocalStackException(
        "The Kafka broker classpath ("
            + BROKER_LIB_RELATIVE
            + ") was not found from "
            + Path.of("").toAbsolutePath()
            + " upwards. Build it from the project root with `mvn -pl devstack/broker package`, "
            + "or point -D"
            + BROKER_LIB_PROPERTY
            + " or $"
            + BROKER_LIB_ENV
            + " at a directory holding kafka_2.13-*.jar and its dependencies.");
  }

  /** Kafka {@code bootstrap.servers}, e.g. {@code 127.0.0.1:19092}. */
  public String bootstrapServers() {
    return Net.HOST + ":" + broker.port();
  }

  /**
   * The SASL_SSL listener's {@code bootstrap.servers} (SCRAM-SHA-512), when the stack was started
   * with {@link Config#withSecureKafkaPort}; its clients use {@link #clientSecureFile()}.
   */
  public Optional<String> secureBootstrapServers() {
    return securePort < 0 ? Optional.empty() : Optional.of(Net.HOST + ":" + securePort);
  }

  /** The secured listener's port, or -1. */
  public int secureKafkaPort() {
    return securePort;
  }

  /**
   * {@code <dataDir>/client-secure.properties} (0600): a Kafka client properties file for the
   * secured listener (security.protocol, sasl.*, the trust store), as {@code kb --kafka-config}
   * takes it. Its password changes on every start.
   */
  public Optional<Path> clientSecureFile() {
    return Optional.ofNullable(clientSecureFile);
  }

  /** JDBC URL of the shared database (H2 over TCP, PostgreSQL mode). */
  public String jdbcUrl() {
    return jdbcUrl(h2Port);
  }

  /** Database user, {@value #JDBC_USER}. */
  public String jdbcUser() {
    return JDBC_USER;
  }

  /** Database password, {@value #JDBC_PASSWORD}. */
  public String jdbcPassword() {
    return JDBC_PASSWORD;
  }

  /** Opens a new connection to the shared database; the caller closes it. */
  public Connection openConnection() throws SQLException {
    return DriverManager.getConnection(jdbcUrl(), JDBC_USER, JDBC_PASSWORD);
  }

  /**
   * Takes the serving database off the network, as a database server outage looks to its clients:
   * the H2 TCP server stops (open connections break, new ones are refused on the port) while the
   * stack keeps the database open, so no committed data is touched. For fault tests; {@link
   * #resumeServingDatabase()} brings it back on the same port.
   */
  public void suspendServingDatabase() {
    database.suspendServing();
  }

  /** Serves the database again on {@link #h2Port()} after {@link #suspendServingDatabase()}. */
  public void resumeServingDatabase() {
    database.resumeServing();
  }

  /**
   * Stops the broker as a broker restart looks to its clients: SIGTERM, a controlled shutdown (up
   * to 30 s, then a kill), after which connections are refused on its ports. Topics, records,
   * committed offsets and the cluster id stay in the data directory; H2 keeps serving. For fault
   * tests; {@link #startBroker()} brings it back. Returns whether it stopped cleanly (false: it was
   * killed, and will recover its log on the next start).
   *
   * @throws IllegalStateException if the stack is closed or the broker is already stopped
   */
  public synchronized boolean stopBroker() {
    checkOpen();
    if (!broker.isAlive()) {
      throw new IllegalStateException("The Kafka broker is not running; start it first");
    }
    return broker.stop(BROKER_STOP_GRACE);
  }

  /**
   * Starts the broker again after {@link #stopBroker()} (or after it died) on the same ports, with
   * the same storage and cluster id, and returns once it answers a describe-cluster request, as
   * {@link #start} does; clients that kept running reconnect by themselves. Fails with a {@link
   * LocalStackException} quoting the broker's log if it does not answer within {@link
   * Config#startTimeout()}.
   *
   * @throws IllegalStateException if the stack is closed or the broker is running
   */
  public synchronized void startBroker() {
    checkOpen();
    if (broker.isAlive()) {
      throw new IllegalStateException("The Kafka broker is running; stop it first");
    }
    broker =
        KafkaBroker.start(
            dataDir,
            brokerLibDir,
            broker.port(),
            broker.controllerPort(),
            secure,
            securePort,
            config.brokerHeapMb(),
            config.startTimeout());
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("The local stack is closed");
    }
  }

  /** Base configuration for Kafka clients of this broker (bootstrap servers only). */
  public Map<String, Object> kafkaClientConfig() {
    return Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
  }

  /**
   * Creates the topic with {@code partitions} partitions if it does not exist (the broker does not
   * auto-create topics). Returns whether it was created; an existing topic is left as it is.
   */
  public boolean ensureTopic(String topic, int partitions) {
    return KafkaTopics.ensure(bootstrapServers(), topic, partitions);
  }

  /** The absolute data directory. */
  public Path dataDir() {
    return dataDir;
  }

  /** The configuration this stack was started with (ports possibly 0). */
  public Config config() {
    return config;
  }

  /** The Kafka client port in use. */
  public int kafkaPort() {
    return broker.port();
  }

  /** The KRaft controller port in use. */
  public int controllerPort() {
    return broker.controllerPort();
  }

  /** The H2 TCP port in use. */
  public int h2Port() {
    return h2Port;
  }

  /** The database file, {@code <dataDir>/h2/kb.mv.db}: copy it only while the stack is down. */
  public Path databaseFile() {
    return databaseFile(dataDir);
  }

  /** The database file of a stack on {@code dataDir}, whether it runs or not. */
  public static Path databaseFile(Path dataDir) {
    return databaseDir(dataDir).resolve(DATABASE + ".mv.db");
  }

  /** The Kafka cluster id, persisted in the data directory. */
  public String clusterId() {
    return broker.clusterId();
  }

  /** Process id of the broker JVM. */
  public long brokerPid() {
    return broker.pid();
  }

  /** Whether the broker JVM is still running. */
  public boolean isBrokerAlive() {
    return broker.isAlive();
  }

  /** The broker's log file, {@code <dataDir>/kafka.log}. */
  public Path brokerLog() {
    return KafkaBroker.kafkaLog(dataDir);
  }

  /** Completes when the broker JVM exits, for whatever reason. */
  CompletableFuture<Process> onBrokerExit() {
    return broker.onExit();
  }

  /** The last lines of the broker's log, for error messages. */
  String brokerLogTail() {
    return broker.logTail();
  }

  /**
   * Stops the broker (SIGTERM, up to 30 s for its controlled shutdown, then a kill), then H2 (no
   * new clients, open sessions disconnected, then {@code SHUTDOWN}), and releases the data
   * directory. Idempotent.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      if (!broker.stop(BROKER_STOP_GRACE)) {
        LOG.warn(
            "The Kafka broker did not stop within {} s and was killed; it will recover its log"
                + " on the next start.",
            BROKER_STOP_GRACE.toSeconds());
      }
    } finally {
      try {
        database.close();
      } finally {
        lock.release();
      }
    }
  }

  private static Path databaseDir(Path dataDir) {
    return dataDir.toAbsolutePath().normalize().resolve("h2");
  }

  static String jdbcUrl(int h2Port) {
    return "jdbc:h2:tcp://"
        + Net.HOST
        + ":"
        + h2Port
        + "/"
        + DATABASE
        + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH";
  }

  private static void checkFree(int port, String what, String setter) {
    if (port != 0 && !Net.isFree(port)) {
      throw new LocalStackException(
          what
              + " port "
              + port
              + " is in use. Is a local stack already running (check its status)? Stop it, or"
              + " choose another port with Config."
              + setter
              + "(...), or 0 for a free one.");
    }
  }

  private static int freePortOtherThan(int... taken) {
    while (true) {
      int port = Net.freePort();
      boolean clash = false;
      for (int t : taken) {
        clash |= t == port;
      }
      if (!clash) {
        return port;
      }
    }
  }

  private static Path checkBrokerLibDir(Path dir, String source) {
    if (!isBrokerLibDir(dir)) {
      throw new LocalStackException(
          source
              + " points at "
              + dir.toAbsolutePath()
              + ", which holds no kafka_2.13-*.jar. Build the broker classpath from the project"
              + " root with `mvn -pl devstack/broker package` and point it at "
              + BROKER_LIB_RELATIVE
              + ".");
    }
    return dir.toAbsolutePath().normalize();
  }

  private static boolean isBrokerLibDir(Path dir) {
    if (!Files.isDirectory(dir)) {
      return false;
    }
    try (DirectoryStream<Path> jars = Files.newDirectoryStream(dir, "kafka_2.13-*.jar")) {
      return jars.iterator().hasNext();
    } catch (IOException e) {
      return false;
    }
  }

  /** An exclusive lock on {@code <dataDir>/stack.lock}: one stack per data directory. */
  private static final class DataDirLock {
    private final FileChannel channel;
    private final FileLock lock;

    private DataDirLock(FileChannel channel, FileLock lock) {
      this.channel = channel;
      this.lock = lock;
    }

    static DataDirLock acquire(Path dataDir) {
      Path file = dataDir.resolve("stack.lock");
      FileChannel channel = null;
      try {
        channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock = channel.tryLock();
        if (lock != null) {
          return new DataDirLock(channel, lock);
        }
      } catch (OverlappingFileLockException e) {
        // Held by another stack in this JVM; reported below.
      } catch (IOException e) {
        closeQuietly(channel);
        throw new LocalStackException("Cannot lock " + file + ": " + e.getMessage(), e);
      }
      closeQuietly(channel);
      throw new LocalStackException(
          "The data directory "
              + dataDir
              + " is in use by another local stack. Stop that one first, or use another data"
              + " directory.");
    }

    void release() {
      try {
        lock.release();
      } catch (IOException e) {
        // Closing the channel below releases it as well.
      }
      closeQuietly(channel);
    }

    private static void closeQuietly(FileChannel channel) {
      if (channel != null) {
        try {
          channel.close();
        } catch (IOException e) {
          // Nothing left to release.
        }
      }
    }
  }

  /**
   * Immutable settings of a {@link LocalStack}; start from {@link #of(Path)} and adjust with the
   * {@code withX} methods. A port of 0 means "pick a free port at start".
   */
  public static final class Config {
    /** Default heap of the broker JVM in MB. */
    public static final int DEFAULT_BROKER_HEAP_MB = 512;

    /**
     * Default deadline for the broker to answer after start: about 4 s suffice on an idle 2-core
     * machine, but 20 to 30 s were seen while other builds kept the load at 12.
     */
    public static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(90);

    private final Path dataDir;
    private final int kafkaPort;
    private final int controllerPort;
    private final int h2Port;
    private final Path brokerLibDir;
    private final int brokerHeapMb;
    private final Duration startTimeout;
    private final int securePort;

    private Config(
        Path dataDir,
        int kafkaPort,
        int controllerPort,
        int h2Port,
        Path brokerLibDir,
        int brokerHeapMb,
        Duration startTimeout,
        int securePort) {
      this.dataDir = Objects.requireNonNull(dataDir, "dataDir");
      if (securePort < -1 || securePort > 65535) {
        throw new IllegalArgumentException(
            "securePort must be -1 (no secured listener), 0 (a free port) or a port, got "
                + securePort);
      }
      this.securePort = securePort;
      this.kafkaPort = checkPort(kafkaPort, "kafkaPort");
      this.controllerPort = checkPort(controllerPort, "controllerPort");
      this.h2Port = checkPort(h2Port, "h2Port");
      this.brokerLibDir = brokerLibDir;
      if (brokerHeapMb < 128) {
        throw new IllegalArgumentException(
            "brokerHeapMb must be at least 128 (the broker needs about 256 MB), got "
                + brokerHeapMb);
      }
      this.brokerHeapMb = brokerHeapMb;
      if (startTimeout.isNegative() || startTimeout.isZero()) {
        throw new IllegalArgumentException("startTimeout must be positive, got " + startTimeout);
      }
      this.startTimeout = startTimeout;
    }

    /**
     * Defaults: ports {@value LocalStack#DEFAULT_KAFKA_PORT} (Kafka), {@value
     * LocalStack#DEFAULT_CONTROLLER_PORT} (controller), {@value LocalStack#DEFAULT_H2_PORT} (H2),
     * the broker lib dir from {@link LocalStack#findBrokerLibDir()}, a 512 MB broker heap and a 90
     * s start timeout.
     */
    public static Config of(Path dataDir) {
      return new Config(
          dataDir,
          DEFAULT_KAFKA_PORT,
          DEFAULT_CONTROLLER_PORT,
          DEFAULT_H2_PORT,
          null,
          DEFAULT_BROKER_HEAP_MB,
          DEFAULT_START_TIMEOUT,
          -1);
    }

    /** All three ports free ones picked at start: for tests and parallel stacks. */
    public Config withFreePorts() {
      return new Config(
          dataDir, 0, 0, 0, brokerLibDir, brokerHeapMb, startTimeout, securePort < 0 ? -1 : 0);
    }

    /** Kafka client port; 0 picks a free one. */
    public Config withKafkaPort(int port) {
      return new Config(
          dataDir,
          port,
          controllerPort,
          h2Port,
          brokerLibDir,
          brokerHeapMb,
          startTimeout,
          securePort);
    }

    /** KRaft controller port; 0 picks a free one. */
    public Config withControllerPort(int port) {
      return new Config(
          dataDir, kafkaPort, port, h2Port, brokerLibDir, brokerHeapMb, startTimeout, securePort);
    }

    /** H2 TCP port; 0 picks a free one. */
    public Config withH2Port(int port) {
      return new Config(
          dataDir,
          kafkaPort,
          controllerPort,
          port,
          brokerLibDir,
          brokerHeapMb,
          startTimeout,
          securePort);
    }

    /** Directory holding the broker's jars ({@code devstack/broker/target/lib}). */
    public Config withBrokerLibDir(Path dir) {
      return new Config(
          dataDir,
          kafkaPort,
          controllerPort,
          h2Port,
          Objects.requireNonNull(dir, "dir"),
          brokerHeapMb,
          startTimeout,
          securePort);
    }

    /** Maximum heap of the broker JVM in MB, at least 128. */
    public Config withBrokerHeapMb(int heapMb) {
      return new Config(
          dataDir,
          kafkaPort,
          controllerPort,
          h2Port,
          brokerLibDir,
          heapMb,
          startTimeout,
          securePort);
    }

    /** How long {@link LocalStack#start} waits for the broker to answer. */
    public Config withStartTimeout(Duration timeout) {
      return new Config(
          dataDir,
          kafkaPort,
          controllerPort,
          h2Port,
          brokerLibDir,
          brokerHeapMb,
          Objects.requireNonNull(timeout, "timeout"),
          securePort);
    }

    /**
     * Adds a SASL_SSL listener (SCRAM-SHA-512, a generated CA and broker certificate) on {@code
     * port} (0 picks a free one; -1 none, the default); see {@link
     * LocalStack#secureBootstrapServers()}.
     */
    public Config withSecureKafkaPort(int port) {
      return new Config(
          dataDir,
          kafkaPort,
          controllerPort,
          h2Port,
          brokerLibDir,
          brokerHeapMb,
          startTimeout,
          port);
    }

    /** The secured listener's port: -1 none, 0 a free one. */
    public int secureKafkaPort() {
      return securePort;
    }

    /** Where Kafka's log, H2's files, the broker log and the state file live. */
    public Path dataDir() {
      return dataDir;
    }

    /** Kafka client port, 0 for a free one. */
    public int kafkaPort() {
      return kafkaPort;
    }

    /** KRaft controller port, 0 for a free one. */
    public int controllerPort() {
      return controllerPort;
    }

    /** H2 TCP port, 0 for a free one. */
    public int h2Port() {
      return h2Port;
    }

    /** The broker lib dir, if set; otherwise {@link LocalStack#findBrokerLibDir()} is used. */
    public Optional<Path> brokerLibDir() {
      return Optional.ofNullable(brokerLibDir);
    }

    /** Maximum heap of the broker JVM in MB. */
    public int brokerHeapMb() {
      return brokerHeapMb;
    }

    /** How long start waits for the broker to answer. */
    public Duration startTimeout() {
      return startTimeout;
    }

    @Override
    public String toString() {
      return "LocalStack.Config{dataDir="
          + dataDir
          + ", kafkaPort="
          + kafkaPort
          + ", controllerPort="
          + controllerPort
          + ", h2Port="
          + h2Port
          + ", brokerLibDir="
          + brokerLibDir
          + ", brokerHeapMb="
          + brokerHeapMb
          + ", startTimeout="
          + startTimeout
          + ", securePort="
          + securePort
          + "}";
    }

    private static int checkPort(int port, String name) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException(
            name + " must be between 0 (pick a free port) and 65535, got " + port);
      }
      return port;
    }
  }
}
