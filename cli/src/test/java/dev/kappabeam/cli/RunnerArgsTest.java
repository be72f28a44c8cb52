package dev.kappabeam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.pipelines.runner.RunnerSupports;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The Beam flags kb adds: DirectRunner by default, and on it kb's own --blockOnRun=false; the
 * runner's defaults (one worker thread for DirectRunner streaming runs) come from its
 * RunnerSupport, as for the pipeline's main.
 */
class RunnerArgsTest {
  @Test
  void streamingOnDirectRunnerUsesOneWorkerThreadUnlessTold() {
    List<String> streaming =
        RunnerSupports.withDefaults(append(RunCommand.runnerArgs(List.of()), "--mode=STREAMING"));
    assertTrue(streaming.contains("--runner=DirectRunner"));
    assertTrue(streaming.contains("--blockOnRun=false"));
    assertTrue(streaming.contains("--targetParallelism=1"));
    assertFalse(
        RunnerSupports.withDefaults(append(RunCommand.runnerArgs(List.of()), "--mode=HISTORICAL"))
            .contains("--targetParallelism=1"));
    List<String> told =
        RunnerSupports.withDefaults(
            append(RunCommand.runnerArgs(List.of("--targetParallelism=4")), "--mode=STREAMING"));
    assertEquals(1, told.stream().filter(a -> a.startsWith("--targetParallelism")).count());
    assertTrue(told.contains("--targetParallelism=4"));
  }

  @Test
  void otherRunnersGetNoDirectRunnerFlags() {
    List<String> flink = RunCommand.runnerArgs(List.of("--runner=FlinkRunner"));
    assertEquals(List.of("--runner=FlinkRunner"), flink);
  }

  private static List<String> append(List<String> args, String flag) {
    List<String> out = new java.util.ArrayList<>(args);
    out.add(flag);
    return out;
  }
}
