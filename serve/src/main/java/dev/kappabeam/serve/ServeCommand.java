package dev.kappabeam.serve;

import dev.kappabeam.serving.JdbcUrls;
import dev.kappabeam.serving.StoreConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code kb serve}: runs the {@link KbServer} until Ctrl-C.
 *
 * <p>The connection options ({@code --bootstrap-servers}, {@code --jdbc-url}, ...) are kb's own:
 * the cli passes its options object, mixed into this command, and the getters that resolve them
 * (flag, environment, the running local stack, default), so {@code kb serve} finds the stack
 * exactly as every other kb command does:
 *
 * <pre>{@code
 * Connections c = new Connections();
 * cli.addSubcommand(ServeCommand.command(c, new ServeCommand.Settings(
 *     c::bootstrapServers, c::requireJdbcUrl, c::jdbcUser, c::jdbcPassword,
 *     c::kafkaSettings)));
 * }</pre>
 */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = {
      "Serve the live views, the view versions and metrics over HTTP, with a live web page.",
      "GET / (page), /api/views, /api/views/{view}?from=&to=&key=&top=&by=&limit=,"
          + " /api/lambda/{view}?limit=, /api/versions, /metrics (Prometheus). Ctrl-C stops.",
      "Listening on an address other than loopback needs --token-file."
    })
public final class ServeCommand implements Callable<Integer> {
  /** Exit code when the address cannot be bound (kb's "environment problem"). */
  static final int ENVIRONMENT = 3;

  /** How to resolve the connection settings, read after the options are parsed. */
  public record Settings(
      Supplier<String> bootstrapServers,
      Supplier<String> jdbcUrl,
      Supplier<String> jdbcUser,
      Supplier<String> jdbcPassword,
      Supplier<Map<String, ?>> kafkaSettings) {
    public Settings {
      Objects.requireNonNull(bootstrapServers, "bootstrapServers");
      Objects.requireNonNull(jdbcUrl, "jdbcUrl");
      Objects.requireNonNull(jdbcUser, "jdbcUser");
      Objects.requireNonNull(jdbcPassword, "jdbcPassword");
      Objects.requireNonNull(kafkaSettings, "kafkaSettings");
    }

    /** No Kafka client settings beyond the bootstrap servers. */
    public Settings(
        Supplier<String> bootstrapServers,
        Supplier<String> jdbcUrl,
        Supplier<String> jdbcUser,
        Supplier<String> jdbcPassword) {
      this(bootstrapServers, jdbcUrl, jdbcUser, jdbcPassword, Map::of);
    }
  }

  @Option(
      names = "--port",
      defaultValue = "8080",
      description = "TCP port to listen on (default ${DEFAULT-VALUE}; 0 picks a free one).")
  int port;

  @Option(
      names = "--host",
      defaultValue = "127.0.0.1",
      description =
          "Address to listen on (default ${DEFAULT-VALUE}: this machine only; 0.0.0.0 for all).")
  String host;

  @Option(
      names = "--token-file",
      paramLabel = "FILE",
      description =
          "Require Authorization: Bearer <token> on the API and metrics, the token being this"
              + " file's content (at least 16 characters, e.g. openssl rand -hex 32 > FILE)."
              + " Required when --host is not a loopback address.")
  Path tokenFile;

  @Option(
      names = "--allowed-host",
      paramLabel = "NAME",
      description =
          "A further name requests may give in their Host header (repeatable), e.g. the DNS name"
              + " clients use; the --host address, and localhost when on loopback, always are.")
  List<String> allowedHosts = new ArrayList<>();

  @Option(
      names = "--read-timeout",
      defaultValue = "PT10S",
      description =
          "Close a connection on which no byte moves for this long: a request sent half, an"
              + " answer not read, an idle keep-alive (ISO-8601, default ${DEFAULT-VALUE}).")
  Duration readTimeout;

  @Option(
      names = "--query-timeout",
      defaultValue = "PT30S",
      description =
          "Cancel a request's database query after this long and answer 503 (ISO-8601, default"
              + " ${DEFAULT-VALUE}).")
  Duration queryTimeout;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  private final Settings settings;

  public ServeCommand(Settings settings) {
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  /**
   * The command as kb registers it: this command with {@code connectionOptions} (kb's picocli
   * options object for the connection flags) mixed in, resolved through {@code settings}.
   */
  public static CommandLine command(Object connectionOptions, Settings settings) {
    CommandLine cl = new CommandLine(new ServeCommand(settings));
    cl.addMixin("connections", connectionOptions);
    return cl;
  }

  @Override
  public Integer call() throws Exception {
    ServerConfig config;
    try {
      config =
          ServerConfig.listen(host, port)
              .withReadTimeout(readTimeout)
              .withQueryTimeout(queryTimeout)
              .withAllowedHosts(allowedHosts);
      if (tokenFile != null) {
        config = config.withToken(BearerToken.fromFile(tokenFile));
      }
      config.check();
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    StoreConfig store =
        StoreConfig.of(
            settings.jdbcUrl().get(), settings.jdbcUser().get(), settings.jdbcPassword().get());
    Backend backend =
        new Backend(store, settings.bootstrapServers().get(), settings.kafkaSettings().get());
    PrintWriter err = spec.commandLine().getErr();
    KbServer server;
    try {
      server = KbServer.start(backend, config);
    } catch (IOException e) {
      err.println("kb: error: " + JdbcUrls.redact(e.getMessage()) + " (pick another --port)");
      err.flush();
      return ENVIRONMENT;
    }
    Thread hook = new Thread(server::close, "kb-serve-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    err.printf(
        "kb: serving %s (views and registry at %s, Kafka %s; Host %s; %s); Ctrl-C stops%n",
        server.url(),
        store.redactedUrl(),
        backend.bootstrapServers(),
        String.join(", ", config.allowedHostNames()),
        tokenFile == null ? "no token" : "bearer token from " + tokenFile);
    err.flush();
    server.awaitStop();
    return 0;
  }
}
