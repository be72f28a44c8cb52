package dev.kappabeam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.kappa.RecordedLogic;
import dev.kappabeam.pipelines.KappaBeamPipeline;
import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.transforms.LogicDefaults;
import dev.kappabeam.transforms.views.ViewParameters;
import java.util.List;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The logic flags: one declaration, typed into the pipeline's options, recorded and read back. */
class LogicFlagsTest {
  private static KappaBeamOptions options() {
    return PipelineOptionsFactory.create().as(KappaBeamOptions.class);
  }

  @Test
  void noFlagsGiveTheTransformsDefaults() {
    LogicFlags flags = new LogicFlags();
    new CommandLine(flags).parseArgs();
    KappaBeamOptions o = options();
    flags.applyTo(o);
    assertEquals(ViewParameters.defaults(), KappaBeamPipeline.parameters(o));
    assertEquals(LogicDefaults.MAX_OUT_OF_ORDERNESS, o.getMaxOutOfOrderness());
  }

  @Test
  void givenFlagsReachTheOptionsAndSurviveTheRegistryRow() {
    LogicFlags flags = new LogicFlags();
    new CommandLine(flags)
        .parseArgs(
            "--allowed-lateness",
            "PT6H",
            "--early-firing-interval",
            "PT1S",
            "--session-gap",
            "PT10M",
            "--exclude-types",
            "view,click");
    KappaBeamOptions o = options();
    flags.applyTo(o);
    assertEquals("PT6H", o.getAllowedLateness());
    assertEquals("PT1S", o.getEarlyFiringInterval());
    String recorded = RecordedLogic.of(o);

    KappaBeamOptions resumed = options();
    RecordedLogic.applyTo(recorded, resumed);
    assertEquals(recorded, RecordedLogic.of(resumed));
    assertEquals(
        KappaBeamPipeline.parameters(o).fingerprint(),
        KappaBeamPipeline.parameters(resumed).fingerprint());
    assertThrows(
        IllegalArgumentException.class, () -> RecordedLogic.applyTo("--runner=X", options()));
  }

  /** kb run, reprocess, batch and speed take the same logic flags with the same defaults. */
  @Test
  void everyCommandThatBuildsAViewTakesTheSameFlags() {
    for (Object command :
        List.of(new RunCommand(), new ReprocessCommand(), new BatchCommand(), new SpeedCommand())) {
      CommandLine cl = new CommandLine(command);
      for (String name : LogicFlags.NAMES) {
        CommandLine.Model.OptionSpec option = cl.getCommandSpec().findOption(name);
        assertNotNull(option, command.getClass().getSimpleName() + " " + name);
      }
      assertEquals(
          LogicDefaults.ALLOWED_LATENESS,
          cl.getCommandSpec().findOption("--allowed-lateness").defaultValue(),
          command.getClass().getSimpleName());
    }
  }

  @Test
  void onlyFlagsOnTheCommandLineCountAsGiven() {
    CommandLine none = new CommandLine(new ReprocessCommand());
    none.parseArgs("--view", "activity_per_minute", "--version", "v2");
    assertFalse(LogicFlags.anyGiven(none.getCommandSpec()));
    CommandLine one = new CommandLine(new ReprocessCommand());
    one.parseArgs("--view", "activity_per_minute", "--version", "v2", "--session-gap", "PT30M");
    assertTrue(LogicFlags.anyGiven(one.getCommandSpec()));
  }
}
