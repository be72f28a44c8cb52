package dev.kappabeam.cli;

import dev.kappabeam.kappa.KappaException;
import dev.kappabeam.pipelines.kafka.KafkaSetupException;
import dev.kappabeam.serve.ServeCommand;
import dev.kappabeam.serving.JdbcUrls;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The kappa-beam command line. Run through {@code scripts/kb}; {@code kb --help} and {@code kb
 * COMMAND --help} describe everything. Errors are one line on stderr with a non-zero exit code (see
 * {@link ExitCodes}); {@code --stacktrace} adds the stack trace.
 */
@Command(
    name = "kb",
    mixinStandardHelpOptions = true,
    version = "kappa-beam 0.1.0",
    description = "Kappa/Lambda pipelines over a Kafka log with Apache Beam.",
    subcommands = {
      LocalCommand.class,
      TopicsCommand.class,
      GenerateCommand.class,
      ProduceCommand.class,
      RunCommand.class,
      ViewsCommand.class,
      VerifyCommand.class,
      ReprocessCommand.class,
      RegistryCommands.Cutover.class,
      RegistryCommands.Rollback.class,
      RegistryCommands.Drop.class,
      RegistryCommands.StatusCommand.class,
      BatchCommand.class,
      SpeedCommand.class,
      LambdaCommand.class,
      ArchiveCommand.class,
      DemoCommand.class,
      CommandLine.HelpCommand.class
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:success",
      "1:verify found differences",
      "2:bad usage",
      "3:environment problem (broker or database unreachable, missing topic, existing version)",
      "4:a pipeline run failed (also: serving store lost beyond --outage-grace) or its counts"
          + " do not add up"
    })
public final class Kb implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  // Read by scripts/kb, which puts the jars on the class path (see ViewCatalog); declared here so
  // that kb --help documents it and an in-process kb accepts it before the command.
  @CommandLine.Option(
      names = "--plugin",
      paramLabel = "PATH.jar",
      description = {
        "A jar of a team's own views (a ViewProvider in its META-INF/services); repeatable, on any",
        "command. Also KB_PLUGINS=PATH.jar[:PATH.jar...]. kb views catalog lists what is loaded."
      })
  java.util.List<String> plugins;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing command");
  }

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs kb with the given arguments and returns the exit code. */
  public static int execute(String... args) {
    boolean stacktrace = java.util.Arrays.asList(args).contains("--stacktrace");
    CommandLine cli = new CommandLine(new Kb());
    Connections serveConnections = new Connections();
    cli.addSubcommand(
        ServeCommand.command(
            serveConnections,
            new ServeCommand.Settings(
                serveConnections::bootstrapServers,
                serveConnections::requireJdbcUrl,
                serveConnections::jdbcUser,
                serveConnections::jdbcPassword,
                serveConnections::kafkaSettings)));
    cli.setParameterExceptionHandler(
        (ex, cmdArgs) -> {
          // One line that says what to do, instead of picocli's full usage text.
          CommandLine cmd = ex.getCommandLine();
          PrintWriter err = cmd.getErr();
          String where = cmd.getCommandSpec().qualifiedName();
          err.println(
              "kb: error: " + JdbcUrls.redact(ex.getMessage()) + " (see '" + where + " --help')");
          err.flush();
          return ExitCodes.USAGE;
        });
    cli.setExecutionExceptionHandler(
        (ex, commandLine, parseResult) -> {
          PrintWriter err = commandLine.getErr();
          int code = ExitCodes.RUN_FAILED;
          String message = ex.getMessage();
          if (ex instanceof CliException) {
            code = ((CliException) ex).exitCode;
          } else if (ex instanceof KappaException) {
            code =
                ((KappaException) ex).kind() == KappaException.Kind.CONFLICT
                    ? ExitCodes.ENVIRONMENT
                    : ExitCodes.RUN_FAILED;
          } else if (ex instanceof dev.kappabeam.serving.StoreOutageException) {
            code = ExitCodes.RUN_FAILED; // the store was lost for longer than --outage-grace
          } else if (ex instanceof KafkaSetupException
              || ex instanceof dev.kappabeam.serving.ViewStoreException) {
            code = ExitCodes.ENVIRONMENT;
          } else if (ex instanceof IllegalArgumentException) {
            code = ExitCodes.USAGE;
          }
          // A driver's message can quote the URL it was given, credentials and all.
          err.println("kb: error: " + JdbcUrls.redact(message == null ? ex.toString() : message));
          if (stacktrace) {
            ex.printStackTrace(err);
          } else if (code == ExitCodes.RUN_FAILED) {
            err.println("kb: (run again with --stacktrace for details)");
          }
          err.flush();
          return code;
        });
    return cli.execute(args);
  }
}
