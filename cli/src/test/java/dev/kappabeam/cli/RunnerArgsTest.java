package dev.kappabeam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The Beam flags kb adds: DirectRunner by default, one worker thread for its streaming runs. */
class RunnerArgsTest {
  @Test
  void streamingOnDirectRunnerUsesOneWorkerThreadUnlessTold() {
    List<String> streaming = RunCommand.runnerArgs(List.of(), true);
    assertTrue(streaming.contains("--runner=DirectRunner"));
    assertTrue(streaming.contains("--targetParallelism=1"));
    assertFalse(RunCommand.runnerArgs(List.of(), false).contains("--targetParallelism=1"));
    List<String> told = RunCommand.runnerArgs(List.of("--targetParallelism=4"), true);
    assertEquals(1, told.stream().filter(a -> a.startsWith("--targetParallelism")).count());
    assertTrue(told.contains("--targetParallelism=4"));
  }

  @Test
  void otherRunnersGetNoDirectRunnerFlags() {
    List<String> flink = RunCommand.runnerArgs(List.of("--runner=FlinkRunner"), true);
    assertEquals(List.of("--runner=FlinkRunner"), flink);
  }
}
