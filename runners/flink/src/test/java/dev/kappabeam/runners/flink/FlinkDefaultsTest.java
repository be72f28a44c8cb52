package dev.kappabeam.runners.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.pipelines.runner.RunnerSupports;
import java.util.List;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.runners.flink.FlinkRunner;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;

/** The Flink defaults, applied the way the CLI and the pipeline main apply them. */
class FlinkDefaultsTest {
  @Test
  void addsFasterCopyWhenNotGiven() {
    assertEquals(
        List.of("--runner=FlinkRunner", "--fasterCopy=true"),
        RunnerSupports.withDefaults(List.of("--runner=FlinkRunner")));
  }

  @Test
  void keepsTheCallersChoice() {
    List<String> off = List.of("--runner=FlinkRunner", "--fasterCopy=false");
    assertEquals(off, RunnerSupports.withDefaults(off));
    List<String> bare = List.of("--runner=FlinkRunner", "--fasterCopy");
    assertEquals(bare, RunnerSupports.withDefaults(bare));
  }

  /** The shaded jar's entry point parses the pipeline's and Flink's flags together. */
  @Test
  void pipelineAndFlinkFlagsParseTogether() {
    List<String> args =
        RunnerSupports.withDefaults(
            List.of(
                "--runner=FlinkRunner",
                "--flinkMaster=[local]",
                "--parallelism=2",
                "--bootstrapServers=127.0.0.1:9092",
                "--topic=events",
                "--mode=HISTORICAL",
                "--jdbcUrl=jdbc:h2:mem:x",
                "--viewVersion=v1"));
    KappaBeamOptions o =
        PipelineOptionsFactory.fromArgs(args.toArray(new String[0]))
            .withValidation()
            .as(KappaBeamOptions.class);
    FlinkPipelineOptions flink = o.as(FlinkPipelineOptions.class);
    assertEquals(FlinkRunner.class, o.getRunner());
    assertEquals("[local]", flink.getFlinkMaster());
    assertEquals(2, flink.getParallelism());
    assertTrue(flink.getFasterCopy());
    assertTrue(flink.getAttachedMode(), "attached by default: see FlinkDefaults");
  }
}
