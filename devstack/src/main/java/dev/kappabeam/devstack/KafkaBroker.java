package dev.kappabeam.devstack;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.Uuid;

/**
 * A Kafka broker (KRaft, combined broker and controller, node 1) running in its own JVM from the
 * classpath that {@code devstack/broker} materializes.
 *
 * <p>Files under the stack's data directory: {@code kafka-data/} (log.dirs, metadata log included),
 * {@code kafka-cluster-id}, {@code kafka-server.properties} and {@code kafka-log4j2.properties}
 * (rewritten on every start, since ports may change), {@code kafka.log} (the broker's log, rolled
 * at 20 MB) and {@code kafka.out} (the JVM's own output of the last start).
 */
final class KafkaBroker {
  private static final String MAIN_CLASS = "kafka.Kafka";
  private static final String STORAGE_TOOL = "kafka.tools.StorageTool";
  private static final int LOG_TAIL_LINES = 40;
  private static final Duration STOP_GRACE = Duration.ofSeconds(30);

  private final Process process;
  private final Path dataDir;
  private final int port;
  private final int controllerPort;
  private final String clusterId;
  private final Thread shutdownHook;

  private KafkaBroker(
      Process process, Path dataDir, int port, int controllerPort, String clusterId) {
    this.process = process;
    this.dataDir = dataDir;
    this.port = port;
    this.controllerPort = controllerPort;
    this.clusterId = clusterId;
    // A JVM that exits without stopping the broker (a failed test, Ctrl-C during start) must
    // not leave an orphan holding the ports and the data directory.
    this.shutdownHook = new Thread(() -> stop(STOP_GRACE), "kb-kafka-broker-shutdown");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  /**
   * Formats the storage on first use, starts the broker and waits until it answers a
   * describe-cluster request. Kills the broker and throws if it dies or the deadline passes.
   */
  static KafkaBroker start(
      Path dataDir, Path libDir, int port, int controllerPort, int heapMb, Duration timeout) {
    return start(dataDir, libDir, port, controllerPort, null, 0, heapMb, timeout);
  }

  /** With a {@link SecureListener} on {@code securePort} when {@code secure} is not null. */
  static KafkaBroker start(
      Path dataDir,
      Path libDir,
      int port,
      int controllerPort,
      SecureListener secure,
      int securePort,
      int heapMb,
      Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    Path logDir = dataDir.resolve("kafka-data");
    Path serverProperties = dataDir.resolve("kafka-server.properties");
    Path log4jProperties = dataDir.resolve("kafka-log4j2.properties");
    try {
      Files.createDirectories(logDir);
      String clusterId = clusterId(dataDir, logDir);
      // 0600: with a secured listener it holds the key store password.
      StackState.writeOwnerOnly(
          serverProperties, serverProperties(logDir, port, controllerPort, secure, securePort));
      Files.writeString(log4jProperties, log4jProperties(kafkaLog(dataDir)));
      if (!Files.exists(logDir.resolve("meta.properties"))) {
        format(dataDir, libDir, clusterId, serverProperties, deadline);
      }
      List<String> command = javaCommand(libDir, heapMb);
      command.add(1, "-Dlog4j2.configurationFile=" + log4jProperties.toUri());
      command.add(MAIN_CLASS);
      command.add(serverProperties.toString());
      Process process =
          new ProcessBuilder(command)
              .directory(dataDir.toFile())
              .redirectErrorStream(true)
              .redirectOutput(kafkaOut(dataDir).toFile())
              .start();
      KafkaBroker broker;
      try {
        broker = new KafkaBroker(process, dataDir, port, controllerPort, clusterId);
      } catch (RuntimeException e) {
        process.destroyForcibly();
        throw e;
      }
      try {
        process.getOutputStream().close();
        broker.awaitReady(deadline, timeout);
      } catch (IOException | RuntimeException e) {
        broker.stop(Duration.ofSeconds(10));
        throw e;
      }
      return broker;
    } catch (IOException e) {
      throw new LocalStackException(
          "Could not start the Kafka broker in " + dataDir + ": " + e.getMessage(), e);
    }
  }

  int port() {
    return port;
  }

  int controllerPort() {
    return controllerPort;
  }

  String clusterId() {
    return clusterId;
  }

  long pid() {
    return process.pid();
  }

  boolean isAlive() {
    return process.isAlive();
  }

  CompletableFuture<Process> onExit() {
    return process.onExit();
  }

  /**
   * Stops the broker with SIGTERM (a controlled shutdown that flushes the logs) and waits up to
   * {@code grace}; kills it if it is still alive then. Returns whether it stopped cleanly.
   */
  boolean stop(Duration grace) {
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // The JVM is shutting down (possibly in this very hook); stopping goes on regardless.
    }
    if (!process.isAlive()) {
      return true;
    }
    process.destroy();
    try {
      if (process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        return true;
      }
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
      return false;
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** The broker's log4j output; a failure message quotes its last lines. */
  static Path kafkaLog(Path dataDir) {
    return dataDir.resolve("kafka.log");
  }

  /** The broker JVM's stdout and stderr of the last start (JVM errors land here). */
  static Path kafkaOut(Path dataDir) {
    return dataDir.resolve("kafka.out");
  }

  String logTail() {
    return logTail(dataDir);
  }

  static String logTail(Path dataDir) {
    return "Last lines of "
        + kafkaLog(dataDir)
        + ":\n"
        + LogTail.of(kafkaLog(dataDir), LOG_TAIL_LINES)
        + "\nLast lines of "
        + kafkaOut(dataDir)
        + ":\n"
        + LogTail.of(kafkaOut(dataDir), 10);
  }

  private void awaitReady(long deadline, Duration timeout) {
    Admin admin = null;
    try {
      while (true) {
        if (!process.isAlive()) {
          throw new LocalStackException(
              "The Kafka broker exited with code "
                  + process.exitValue()
                  + " before it was ready. Check that ports "
                  + port
                  + " and "
                  + controllerPort
                  + " are free and that no other broker uses "
                  + dataDir
                  + ".\n"
                  + logTail());
        }
        // Only talk Kafka once the listener is up, so the client does not log refused connections.
        if (Net.isListening(port, 200)) {
          if (admin == null) {
            admin = Admin.create(readinessConfig());
          }
          if (answers(admin)) {
            return;
          }
        }
        if (System.nanoTime() > deadline) {
          throw new LocalStackException(
              "The Kafka broker did not answer on "
                  + Net.HOST
                  + ":"
                  + port
                  + " within "
                  + timeout.toSeconds()
                  + " s. Raise the start timeout on a slow machine.\n"
                  + logTail());
        }
        // Waits for the poll interval, or less if the broker exits meanwhile.
        process.waitFor(100, TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LocalStackException("Interrupted while waiting for the Kafka broker", e);
    } finally {
      if (admin != null) {
        admin.close(Duration.ofSeconds(2));
      }
    }
  }

  private boolean answers(Admin admin) throws InterruptedException {
    try {
      return !admin
          .describeCluster(new DescribeClusterOptions().timeoutMs(2_000))
          .nodes()
          .get(3, TimeUnit.SECONDS)
          .isEmpty();
    } catch (ExecutionException | TimeoutException e) {
      return false;
    }
  }

  private Map<String, Object> readinessConfig() {
    return Map.of(
        AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
        Net.HOST + ":" + port,
        AdminClientConfig.CLIENT_ID_CONFIG,
        "kb-devstack-readiness",
        AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG,
        2_000,
        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
        2_000,
        AdminClientConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MS_CONFIG,
        1_000L,
        AdminClientConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS_CONFIG,
        1_000L,
        AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG,
        200L,
        AdminClientConfig.RETRY_BACKOFF_MS_CONFIG,
        100L);
  }

  /**
   * Returns the cluster id: the one the storage was formatted with, else the persisted one, else a
   * new one that is persisted before formatting (so a failed format retries with the same id).
   */
  private static String clusterId(Path dataDir, Path logDir) throws IOException {
    Path metaProperties = logDir.resolve("meta.properties");
    Path idFile = dataDir.resolve("kafka-cluster-id");
    String id = null;
    if (Files.exists(metaProperties)) {
      Properties meta = new Properties();
      try (var reader = Files.newBufferedReader(metaProperties, StandardCharsets.UTF_8)) {
        meta.load(reader);
      }
      id = meta.getProperty("cluster.id");
    }
    if (id == null && Files.exists(idFile)) {
      id = Files.readString(idFile, StandardCharsets.UTF_8).strip();
    }
    if (id == null || id.isEmpty()) {
      id = Uuid.randomUuid().toString();
    }
    if (!Files.exists(idFile) || !Files.readString(idFile).strip().equals(id)) {
      Files.writeString(idFile, id + "\n", StandardCharsets.UTF_8);
    }
    return id;
  }

  private static void format(
      Path dataDir, Path libDir, String clusterId, Path serverProperties, long deadline)
      throws IOException {
    List<String> command = javaCommand(libDir, 256);
    command.addAll(
        List.of(STORAGE_TOOL, "format", "-t", clusterId, "-c", serverProperties.toString()));
    Path out = dataDir.resolve("kafka-format.out");
    Process process =
        new ProcessBuilder(command)
            .directory(dataDir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(out.toFile())
            .start();
    process.getOutputStream().close();
    try {
      long waitNanos = Math.max(deadline - System.nanoTime(), TimeUnit.SECONDS.toNanos(5));
      if (!process.waitFor(waitNanos, TimeUnit.NANOSECONDS)) {
        process.destroyForcibly();
        throw new LocalStackException(
            "Formatting the Kafka storage in " + dataDir + " timed out. " + LogTail.of(out, 20));
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new LocalStackException("Interrupted while formatting the Kafka storage", e);
    }
    if (process.exitValue() != 0) {
      throw new LocalStackException(
          "Formatting the Kafka storage in "
              + dataDir.resolve("kafka-data")
              + " failed with exit code "
              + process.exitValue()
              + ". If the directory holds a broken or foreign Kafka log, delete "
              + dataDir
              + " to start from scratch.\n"
              + LogTail.of(out, 20));
    }
  }

  /** Starts a command line for a JVM on the broker classpath; the caller appends the main class. */
  private static List<String> javaCommand(Path libDir, int heapMb) {
    List<String> command = new ArrayList<>();
    command.add(javaExecutable());
    command.add("-Xmx" + heapMb + "m");
    command.add("-XX:+UseG1GC");
    command.add("-XX:+ExitOnOutOfMemoryError");
    command.add("-Djava.awt.headless=true");
    command.add("-cp");
    // The JVM expands the wildcard itself; no shell is involved.
    command.add(libDir.toAbsolutePath() + java.io.File.separator + "*");
    return command;
  }

  static String javaExecutable() {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    if (Files.isExecutable(java)) {
      return java.toString();
    }
    return ProcessHandle.current()
        .info()
        .command()
        .orElseThrow(
            () ->
                new LocalStackException(
                    "Cannot find the java executable under java.home ("
                        + System.getProperty("java.home")
                        + "); run with a full JDK or JRE."));
  }

  private static String serverProperties(
      Path logDir, int port, int controllerPort, SecureListener secure, int securePort) {
    String listener = Net.HOST + ":" + port;
    String controller = Net.HOST + ":" + controllerPort;
    String secured =
        secure == null ? "" : "," + SecureListener.LISTENER + "://" + Net.HOST + ":" + securePort;
    List<String> lines = new ArrayList<>();
    if (secure != null) {
      lines.addAll(secure.brokerProperties());
    }
    lines.add("");
    return String.join(
            "\n",
            "# Written by the kappa-beam local stack on every start; edits are overwritten.",
            "process.roles=broker,controller",
            "node.id=1",
            "controller.quorum.voters=1@" + controller,
            "listeners=PLAINTEXT://" + listener + ",CONTROLLER://" + controller + secured,
            "advertised.listeners=PLAINTEXT://" + listener + secured,
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
                + (secure == null ? "" : "," + SecureListener.LISTENER + ":SASL_SSL"),
            "log.dirs=" + propertyPath(logDir),
            "num.partitions=1",
            "auto.create.topics.enable=false",
            "group.initial.rebalance.delay.ms=0",
            // A single node: every internal topic has one replica.
            "offsets.topic.replication.factor=1",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            // Keep records forever: time retention uses record timestamps, so replaying a
            // historical workload (event times days in the past) would otherwise be deleted.
            "log.retention.ms=-1",
            String.join("\n", lines))
        .replace("\n", System.lineSeparator());
  }

  private static String log4jProperties(Path kafkaLog) {
    String file = propertyPath(kafkaLog);
    return String.join(
            "\n",
            "# Written by the kappa-beam local stack on every start; edits are overwritten.",
            "status = warn",
            // Kafka logs its controlled shutdown from its own hook; log4j's hook would cut it off.
            "shutdownHook = disable",
            "appender.file.type = RollingFile",
            "appender.file.name = FILE",
            "appender.file.fileName = " + file,
            "appender.file.filePattern = " + file + ".%i",
            "appender.file.layout.type = PatternLayout",
            "appender.file.layout.pattern = [%d] %p %m (%c)%n",
            "appender.file.policies.type = Policies",
            "appender.file.policies.size.type = SizeBasedTriggeringPolicy",
            "appender.file.policies.size.size = 20MB",
            "appender.file.strategy.type = DefaultRolloverStrategy",
            "appender.file.strategy.max = 2",
            "rootLogger.level = INFO",
            "rootLogger.appenderRef.file.ref = FILE",
            "logger.request.name = kafka.request.logger",
            "logger.request.level = WARN",
            "logger.authorizer.name = kafka.authorizer.logger",
            "logger.authorizer.level = WARN",
            "")
        .replace("\n", System.lineSeparator());
  }

  /** A path as a properties value: forward slashes need no escaping, on every platform. */
  private static String propertyPath(Path path) {
    return path.toAbsolutePath().toString().replace('\\', '/');
  }
}
