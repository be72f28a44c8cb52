package dev.kappabeam.serve;

import dev.kappabeam.serving.StoreConfig;
import java.io.IOException;
import java.io.PrintWriter;
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
 *     c::bootstrapServers, c::requireJdbcUrl, c::jdbcUser, c::jdbcPassword)));
 * }</pre>
 */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = {
      "Serve the live views, the view versions and metrics over HTTP, with a live web page.",
      "GET / (page), /api/views, /api/views/{view}?from=&to=&key=&top=&by=&limit=,"
          + " /api/versions, /metrics (Prometheus). Ctrl-C stops."
    })
public final class ServeCommand implements Callable<Integer> {
  /** Exit code when the address cannot be bound (kb's "environment problem"). */
  static final int ENVIRONMENT = 3;

  /** How to resolve the connection settings, read after the options are parsed. */
  public record Settings(
      Supplier<String> bootstrapServers,
      Supplier<String> jdbcUrl,
      Supplier<String> jdbcUser,
      Supplier<String> jdbcPassword) {
    public Settings {
      Objects.requireNonNull(bootstrapServers, "bootstrapServers");
      Objects.requireNonNull(jdbcUrl, "jdbcUrl");
      Objects.requireNonNull(jdbcUser, "jdbcUser");
      Objects.requireNonNull(jdbcPassword, "jdbcPassword");
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
    if (port < 0 || port > 65535) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), "--port must be between 0 and 65535, got " + port);
    }
    StoreConfig store =
        StoreConfig.of(
            settings.jdbcUrl().get(), settings.jdbcUser().get(), settings.jdbcPassword().get());
    Backend backend = new Backend(store, settings.bootstrapServers().get());
    PrintWriter err = spec.commandLine().getErr();
    KbServer server;
    try {
      server = KbServer.start(backend, host, port);
    } catch (IOException e) {
      err.println("kb: error: " + e.getMessage() + " (pick another --port)");
      err.flush();
      return ENVIRONMENT;
    }
    Thread hook = new Thread(server::close, "kb-serve-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    err.printf(
        "kb: serving %s (views and registry at %s, Kafka %s); Ctrl-C stops%n",
        server.url(), store.jdbcUrl(), backend.bootstrapServers());
    err.flush();
    server.awaitStop();
    return 0;
  }
}
