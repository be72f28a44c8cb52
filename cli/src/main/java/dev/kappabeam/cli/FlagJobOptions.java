package dev.kappabeam.cli;

import dev.kappabeam.kappa.JobOptions;
import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.pipelines.options.RunMode;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The options of the jobs a kb command starts, from its flags: the Beam flags given (DirectRunner
 * by default) with the runner's defaults, then the connections, the outage grace and the logic.
 */
final class FlagJobOptions implements JobOptions {
  private final List<String> beamArgs;
  private final Connections connections;
  private final OutageGrace outageGrace;
  private final LogicFlags logic;
  private final BooleanSupplier logicGiven;

  /**
   * @param command the kb command, for the message about an argument that is not a flag
   * @param logicGiven whether the command line set a logic flag
   */
  FlagJobOptions(
      String command,
      List<String> beamArgs,
      Connections connections,
      OutageGrace outageGrace,
      LogicFlags logic,
      BooleanSupplier logicGiven) {
    for (String a : beamArgs) {
      if (!a.startsWith("--")) {
        throw new IllegalArgumentException(
            "unexpected argument '" + a + "'; see kb " + command + " --help");
      }
    }
    this.beamArgs = List.copyOf(beamArgs);
    this.connections = connections;
    this.outageGrace = outageGrace;
    this.logic = logic;
    this.logicGiven = logicGiven;
  }

  @Override
  public KappaBeamOptions build(RunMode mode, boolean drainWhenCaughtUp) {
    return RunCommand.beamOptions(
        beamArgs, mode, drainWhenCaughtUp, connections, outageGrace, logic);
  }

  @Override
  public boolean logicGiven() {
    return logicGiven.getAsBoolean();
  }
}
