package dev.kappabeam.cli;

import dev.kappabeam.devstack.LocalStack;
import dev.kappabeam.devstack.LocalStackControl;
import dev.kappabeam.devstack.StackState;
import dev.kappabeam.serving.JdbcUrls;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code kb local up|down|status}: the local Kafka broker and serving database. */
@Command(
    name = "local",
    description =
        "Start, stop and inspect the local stack (Kafka KRaft broker + H2 serving store).",
    mixinStandardHelpOptions = true,
    subcommands = {LocalCommand.Up.class, LocalCommand.Down.class, LocalCommand.Status.class})
final class LocalCommand {

  @Command(
      name = "up",
      description = "Start the local stack in the background (no-op if running).",
      mixinStandardHelpOptions = true)
  static final class Up implements Runnable {
    @Mixin Connections connections;

    @Option(
        names = "--kafka-port",
        defaultValue = "19092",
        description = "Kafka port (default ${DEFAULT-VALUE}).")
    int kafkaPort;

    @Option(
        names = "--controller-port",
        defaultValue = "19093",
        description = "KRaft controller port (default ${DEFAULT-VALUE}).")
    int controllerPort;

    @Option(
        names = "--h2-port",
        defaultValue = "19094",
        description = "H2 TCP port (default ${DEFAULT-VALUE}).")
    int h2Port;

    @Option(
        names = "--secure",
        description =
            "Also start a SASL_SSL listener (SCRAM-SHA-512, a generated CA and broker"
                + " certificate) and write its client file <data-dir>/client-secure.properties"
                + " (0600) for --kafka-config.")
    boolean secure;

    @Option(
        names = "--kafka-secure-port",
        defaultValue = "19095",
        description =
            "Port of the --secure listener (default ${DEFAULT-VALUE}; 0 picks a free one).")
    int kafkaSecurePort;

    @Override
    public void run() {
      Path dataDir = connections.dataDir();
      LocalStack.Config config =
          LocalStack.Config.of(dataDir)
              .withKafkaPort(kafkaPort)
              .withControllerPort(controllerPort)
              .withH2Port(h2Port);
      if (secure) {
        config = config.withSecureKafkaPort(kafkaSecurePort);
      }
      System.err.println("kb: starting the local stack in " + dataDir + " ...");
      LocalStackControl.UpResult r = LocalStackControl.up(config, dataDir.resolve("stack.log"));
      StackState s = r.state();
      System.out.println(
          (r.alreadyRunning() ? "already running" : "started in " + r.elapsed().toMillis() + " ms")
              + "\n  kafka:   "
              + s.bootstrapServers()
              + secureLines(s)
              + "\n  jdbc:    "
              + JdbcUrls.redact(s.jdbcUrl())
              + " (user "
              + s.jdbcUser()
              + ")"
              + "\n  data:    "
              + dataDir
              + "\n  log:     "
              + r.logFile());
      if (secure && s.secureBootstrapServers().isEmpty()) {
        System.err.println(
            "kb: the running stack has no secured listener; restart it: kb local down, then"
                + " kb local up --secure");
      }
    }
  }

  /** The secured listener's lines of {@code up} and {@code status}, or nothing. */
  static String secureLines(StackState s) {
    return s.secureBootstrapServers()
        .map(
            b ->
                "\n  kafka-secure: "
                    + b
                    + " (SASL_SSL, SCRAM-SHA-512)"
                    + "\n  client file:  "
                    + s.clientSecureFile().orElseThrow()
                    + " (kb COMMAND --kafka-config FILE --bootstrap-servers "
                    + b
                    + ")")
        .orElse("");
  }

  @Command(
      name = "down",
      description = "Stop the local stack (data is kept).",
      mixinStandardHelpOptions = true)
  static final class Down implements Runnable {
    @Mixin Connections connections;

    @Override
    public void run() {
      LocalStackControl.DownResult r = LocalStackControl.down(connections.dataDir());
      switch (r.outcome()) {
        case NOT_RUNNING:
          System.out.println("not running");
          break;
        case STALE_STATE_REMOVED:
          System.out.println("was not running (removed a stale state file)");
          break;
        default:
          System.out.println(
              "stopped ("
                  + r.outcome().name().toLowerCase(java.util.Locale.ROOT)
                  + ", pid "
                  + r.pid()
                  + ", "
                  + r.elapsed().toMillis()
                  + " ms)");
      }
    }
  }

  @Command(
      name = "status",
      description = "Show whether the local stack runs and answers.",
      mixinStandardHelpOptions = true)
  static final class Status implements java.util.concurrent.Callable<Integer> {
    @Mixin Connections connections;

    @Override
    public Integer call() {
      LocalStackControl.StatusResult r = LocalStackControl.status(connections.dataDir());
      if (!r.running() || r.state().isEmpty()) {
        System.out.println("not running (start it with: kb local up)");
        return ExitCodes.ENVIRONMENT;
      }
      StackState s = r.state().get();
      System.out.println(
          "running (pid "
              + s.pid()
              + ", since "
              + s.startedAt()
              + ")"
              + "\n  kafka:   "
              + s.bootstrapServers()
              + (r.kafkaAnswers() ? " (answers)" : " (NOT answering)")
              + secureLines(s)
              + "\n  jdbc:    "
              + JdbcUrls.redact(s.jdbcUrl())
              + (r.h2Answers() ? " (answers)" : " (NOT answering)")
              + "\n  h2:      "
              + s.h2Version()
              + ", database file "
              + s.databaseFile());
      return r.kafkaAnswers() && r.h2Answers() ? ExitCodes.OK : ExitCodes.ENVIRONMENT;
    }
  }
}
