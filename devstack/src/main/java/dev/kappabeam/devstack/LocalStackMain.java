package dev.kappabeam.devstack;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs the local stack in the foreground until SIGTERM or Ctrl-C: the process behind {@code
 * LocalStackControl.up} and behind a CLI's {@code run}.
 *
 * <p>Once the stack is ready it writes {@code <dataDir>/stack.properties} (see {@link StackState});
 * a shutdown hook stops the broker and H2 and deletes the file. If the broker dies on its own, the
 * process stops too, with exit code 1 and the broker log's last lines.
 *
 * <pre>
 * java -cp ... dev.kappabeam.devstack.LocalStackMain [run] [--data-dir .kb] [--kafka-port 19092]
 *     [--controller-port 19093] [--h2-port 19094] [--broker-lib DIR] [--broker-heap-mb 512]
 *     [--start-timeout-seconds 90]
 * </pre>
 */
public final class LocalStackMain {
  static final String USAGE =
      String.join(
          System.lineSeparator(),
          "Usage: LocalStackMain [run] [options]",
          "  --data-dir DIR               data directory (default .kb)",
          "  --kafka-port N               Kafka port (default 19092; 0 = any free port)",
          "  --controller-port N          KRaft controller port (default 19093; 0 = any)",
          "  --h2-port N                  H2 TCP port (default 19094; 0 = any)",
          "  --broker-lib DIR             broker classpath (default: devstack/broker/target/lib)",
          "  --broker-heap-mb N           broker heap in MB (default 512)",
          "  --start-timeout-seconds N    how long to wait for the broker (default 90)",
          "  --secure-kafka-port N        add a SASL_SSL listener (SCRAM-SHA-512) on this port",
          "                               (0 = any free port; default -1: none)");

  private LocalStackMain() {}

  /** Starts the stack and blocks until the JVM is asked to stop. */
  public static void main(String[] args) {
    LocalStack.Config config;
    try {
      List<String> rest = new ArrayList<>(List.of(args));
      if (rest.contains("--help") || rest.contains("-h")) {
        System.out.println(USAGE);
        return;
      }
      if (!rest.isEmpty() && rest.get(0).equals("run")) {
        rest.remove(0);
      }
      config = parse(rest);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.err.println(USAGE);
      System.exit(2);
      return;
    }
    int exitCode = run(config);
    if (exitCode != 0) {
      System.exit(exitCode);
    }
  }

  /**
   * Runs the stack until shutdown; returns the exit code when the stack ends by itself (0 when the
   * JVM is shutting down anyway).
   */
  private static int run(LocalStack.Config config) {
    long started = System.nanoTime();
    long pid = ProcessHandle.current().pid();
    LocalStack stack;
    try {
      stack = LocalStack.start(config);
    } catch (LocalStackException e) {
      System.err.println("The local stack did not start: " + e.getMessage());
      return 1;
    }
    AtomicBoolean stopping = new AtomicBoolean();
    Path dataDir = stack.dataDir();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  stopping.set(true);
                  System.out.println("Stopping the local stack ...");
                  try {
                    stack.close();
                  } finally {
                    StackState.deleteIfOwnedBy(dataDir, pid);
                  }
                  System.out.println("Local stack stopped.");
                },
                "kb-local-stack-main-shutdown"));
    StackState state = StackState.of(stack, pid, Instant.now());
    state.write();
    Duration startup = Duration.ofNanos(System.nanoTime() - started);
    System.out.printf(
        "Local stack ready in %.1f s (pid %d)%n"
            + "  Kafka bootstrap servers: %s%n"
            + "%s"
            + "  JDBC URL: %s (user %s, password in %s)%n"
            + "  H2 %s, database file %s%n"
            + "  Data: %s (broker log %s)%n"
            + "  State file: %s%n"
            + "Stop with Ctrl-C or SIGTERM.%n",
        startup.toMillis() / 1000.0,
        pid,
        state.bootstrapServers(),
        state
            .secureBootstrapServers()
            .map(
                b ->
                    String.format(
                        "  kafka-secure: %s (SASL_SSL, %s), client file %s%n",
                        b, SecureListener.MECHANISM, state.clientSecureFile().orElseThrow()))
            .orElse(""),
        state.jdbcUrl(),
        state.jdbcUser(),
        StackState.passwordFile(dataDir),
        state.h2Version(),
        state.databaseFile(),
        dataDir,
        stack.brokerLog(),
        StackState.file(dataDir));
    System.out.flush();
    stack.onBrokerExit().join();
    if (stopping.get()) {
      return 0;
    }
    System.err.println(
        "The Kafka broker exited unexpectedly; stopping the local stack.\n"
            + stack.brokerLogTail());
    return 1;
  }

  /** Parses {@code --name value} or {@code --name=value} options into a configuration. */
  static LocalStack.Config parse(List<String> args) {
    Path dataDir = Path.of(".kb");
    Integer kafkaPort = null;
    Integer controllerPort = null;
    Integer h2Port = null;
    Path brokerLib = null;
    Integer heapMb = null;
    Integer timeoutSeconds = null;
    Integer securePort = null;
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      String name;
      String value;
      int eq = arg.indexOf('=');
      if (arg.startsWith("--") && eq > 0) {
        name = arg.substring(0, eq);
        value = arg.substring(eq + 1);
      } else if (arg.startsWith("--") && i + 1 < args.size()) {
        name = arg;
        value = args.get(++i);
      } else {
        throw new IllegalArgumentException("Unexpected argument: " + arg);
      }
      switch (name) {
        case "--data-dir" -> dataDir = Path.of(value);
        case "--kafka-port" -> kafkaPort = intOption(name, value);
        case "--controller-port" -> controllerPort = intOption(name, value);
        case "--h2-port" -> h2Port = intOption(name, value);
        case "--broker-lib" -> brokerLib = Path.of(value);
        case "--broker-heap-mb" -> heapMb = intOption(name, value);
        case "--start-timeout-seconds" -> timeoutSeconds = intOption(name, value);
        case "--secure-kafka-port" -> securePort = intOption(name, value);
        default -> throw new IllegalArgumentException("Unknown option: " + name);
      }
    }
    LocalStack.Config config = LocalStack.Config.of(dataDir);
    if (kafkaPort != null) {
      config = config.withKafkaPort(kafkaPort);
    }
    if (controllerPort != null) {
      config = config.withControllerPort(controllerPort);
    }
    if (h2Port != null) {
      config = config.withH2Port(h2Port);
    }
    if (brokerLib != null) {
      config = config.withBrokerLibDir(brokerLib);
    }
    if (heapMb != null) {
      config = config.withBrokerHeapMb(heapMb);
    }
    if (timeoutSeconds != null) {
      config = config.withStartTimeout(Duration.ofSeconds(timeoutSeconds));
    }
    if (securePort != null) {
      config = config.withSecureKafkaPort(securePort);
    }
    return config;
  }

  /** The command-line options that {@link #parse} turns back into {@code config}. */
  static List<String> toArgs(LocalStack.Config config) {
    List<String> args = new ArrayList<>();
    args.add("run");
    args.add("--data-dir=" + config.dataDir().toAbsolutePath());
    args.add("--kafka-port=" + config.kafkaPort());
    args.add("--controller-port=" + config.controllerPort());
    args.add("--h2-port=" + config.h2Port());
    config.brokerLibDir().ifPresent(dir -> args.add("--broker-lib=" + dir.toAbsolutePath()));
    args.add("--broker-heap-mb=" + config.brokerHeapMb());
    args.add("--start-timeout-seconds=" + config.startTimeout().toSeconds());
    args.add("--secure-kafka-port=" + config.secureKafkaPort());
    return args;
  }

  private static int intOption(String name, String value) {
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " needs a number, got '" + value + "'");
    }
  }
}
