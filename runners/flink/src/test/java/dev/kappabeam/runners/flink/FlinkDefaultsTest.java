package dev.kappabeam.runners.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.pipelines.runner.RunnerSupports;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.runners.flink.FlinkRunner;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;

/** The Flink defaults, applied the way the CLI and the pipeline main apply them. */
class FlinkDefaultsTest {
  @Test
  void addsFasterCopyWhenNotGiven() {
    assertEquals(
        List.of("--runner=FlinkRunner", "--fasterCopy=true", "--autoWatermarkInterval=200"),
        RunnerSupports.withDefaults(List.of("--runner=FlinkRunner")));
  }

  /**
   * The classic runner reads a drained replay's ranges as an unbounded source; portable does not.
   */
  @Test
  void drainedRangesAreReadAsAnUnboundedSourceOnTheClassicRunnerOnly() {
    var flink = RunnerSupports.find("FlinkRunner").orElseThrow();
    assertTrue(
        flink.readsDrainedRangesAsUnboundedSource(
            PipelineOptionsFactory.fromArgs("--runner=FlinkRunner").create()));
    assertFalse(
        flink.readsDrainedRangesAsUnboundedSource(
            PipelineOptionsFactory.fromArgs("--runner=FlinkRunner", "--experiments=beam_fn_api")
                .create()));
  }

  /** What that means for a drained pipeline built for Flink: the unbounded range source. */
  @Test
  void aDrainedReplayBuiltForFlinkReadsItsRangesWithTheUnboundedSource() {
    List<String> steps = new java.util.ArrayList<>();
    for (String runner : List.of("--runner=FlinkRunner")) {
      org.apache.beam.sdk.Pipeline p =
          org.apache.beam.sdk.Pipeline.create(PipelineOptionsFactory.fromArgs(runner).create());
      p.apply(
          "Drained",
          dev.kappabeam.pipelines.kafka.KafkaSources.drained(
              dev.kappabeam.pipelines.kafka.KafkaClientConfig.of("b:9092"),
              List.of(new dev.kappabeam.pipelines.kafka.PartitionRange("t", 0, 0, 10)),
              org.joda.time.Duration.standardSeconds(10),
              dev.kappabeam.transforms.events.ReferenceFormat.of()));
      p.traverseTopologically(
          new org.apache.beam.sdk.Pipeline.PipelineVisitor.Defaults() {
            @Override
            public void visitPrimitiveTransform(
                org.apache.beam.sdk.runners.TransformHierarchy.Node node) {
              steps.add(runner + " " + node.getFullName());
            }
          });
    }
    // Read.from(an unbounded source): Beam expands it into its SDF wrapper, which the classic
    // FlinkRunner turns back into Flink's source when it runs the pipeline.
    assertTrue(
        steps.stream()
            .anyMatch(
                s ->
                    s.startsWith("--runner=FlinkRunner Drained/ReadKafkaRanges/")
                        && s.contains("UnboundedSourceAsSDFWrapper")),
        String.join("\n", steps));
    assertFalse(
        steps.stream().anyMatch(s -> s.startsWith("--runner=FlinkRunner Drained/Partitions")),
        String.join("\n", steps));
  }

  @Test
  void keepsTheCallersChoice() {
    List<String> off = List.of("--runner=FlinkRunner", "--fasterCopy=false");
    assertEquals(
        List.of("--runner=FlinkRunner", "--fasterCopy=false", "--autoWatermarkInterval=200"),
        RunnerSupports.withDefaults(off));
    List<String> bare =
        List.of("--runner=FlinkRunner", "--fasterCopy", "--autoWatermarkInterval=50");
    assertEquals(bare, RunnerSupports.withDefaults(bare));
  }

  @Test
  void openEndedStreamingOnTheEmbeddedClusterIsDetachedAndCheckpointsUnderTheDataDir() {
    Path dataDir = Path.of("/srv/kb");
    List<String> args =
        RunnerSupports.withDefaults(
            List.of("--runner=FlinkRunner", "--flinkMaster=[local]", "--mode=STREAMING"),
            Optional.of(dataDir));
    assertEquals(
        List.of(
            "--runner=FlinkRunner",
            "--flinkMaster=[local]",
            "--mode=STREAMING",
            "--fasterCopy=true",
            "--autoWatermarkInterval=200",
            "--maxBundleSize=10000",
            "--checkpointingInterval=10000",
            "--attachedMode=false",
            "--stateBackend=filesystem",
            "--stateBackendStoragePath=file:///srv/kb/flink-checkpoints",
            "--externalizedCheckpointsEnabled=true",
            "--retainExternalizedCheckpointsOnCancellation=true"),
        args);
    PipelineOptionsFactory.register(KappaBeamOptions.class);
    FlinkPipelineOptions flink =
        PipelineOptionsFactory.fromArgs(args.toArray(new String[0])).as(FlinkPipelineOptions.class);
    assertEquals(10_000L, flink.getCheckpointingInterval());
    assertEquals(Boolean.TRUE, flink.isExternalizedCheckpointsEnabled());
  }

  /**
   * The pipeline's main has no data directory: its checkpoints must still go to files, not to the
   * JobManager's heap (5 MB at most: a live job's de-duplication state passes that in a minute).
   */
  @Test
  void openEndedStreamingOnTheEmbeddedClusterWithoutADataDirCheckpointsToScratchFiles() {
    List<String> args =
        RunnerSupports.withDefaults(
            List.of("--runner=FlinkRunner", "--flinkMaster=[local]", "--mode=STREAMING"));
    assertTrue(args.contains("--stateBackend=filesystem"), "" + args);
    Path scratch = Path.of(System.getProperty("java.io.tmpdir"), "kappa-beam-flink-checkpoints");
    assertTrue(
        args.contains("--stateBackendStoragePath=" + scratch.toAbsolutePath().toUri()), "" + args);
    assertFalse(args.contains("--externalizedCheckpointsEnabled=true"), "" + args);
  }

  @Test
  void openEndedStreamingOnAClusterCheckpointsWhereTheClusterSays() {
    assertEquals(
        List.of(
            "--runner=FlinkRunner",
            "--flinkMaster=jm:8081",
            "--mode=STREAMING",
            "--fasterCopy=true",
            "--autoWatermarkInterval=200",
            "--maxBundleSize=10000",
            "--checkpointingInterval=10000",
            "--attachedMode=false"),
        RunnerSupports.withDefaults(
            List.of("--runner=FlinkRunner", "--flinkMaster=jm:8081", "--mode=STREAMING"),
            Optional.of(Path.of("/srv/kb"))));
  }

  @Test
  void historicalAndDrainedRunsStayAttachedWithoutCheckpoints() {
    for (List<String> run :
        List.of(
            List.of("--runner=FlinkRunner", "--mode=HISTORICAL"),
            List.of("--runner=FlinkRunner", "--mode=STREAMING", "--drainWhenCaughtUp=true"))) {
      List<String> expected = new java.util.ArrayList<>(run);
      expected.add("--fasterCopy=true");
      expected.add("--autoWatermarkInterval=200");
      if (run.contains("--mode=STREAMING")) {
        expected.add("--maxBundleSize=10000");
      }
      assertEquals(
          expected, RunnerSupports.withDefaults(run, Optional.of(Path.of("/srv/kb"))), "" + run);
    }
  }

  @Test
  void theCallersCheckpointSettingsWin() {
    List<String> run =
        List.of(
            "--runner=FlinkRunner",
            "--mode=STREAMING",
            "--checkpointingInterval=60000",
            "--attachedMode=true",
            "--stateBackend=rocksdb",
            "--stateBackendStoragePath=s3://bucket/chk");
    List<String> out = RunnerSupports.withDefaults(run, Optional.of(Path.of("/srv/kb")));
    assertEquals(1, out.stream().filter(a -> a.startsWith("--checkpointingInterval")).count());
    assertEquals(1, out.stream().filter(a -> a.startsWith("--stateBackendStoragePath")).count());
    assertTrue(out.contains("--checkpointingInterval=60000"));
    assertTrue(out.contains("--attachedMode=true"));
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
