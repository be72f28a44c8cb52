package dev.kappabeam.runners.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.pipelines.runner.RunnerSupports;
import java.util.List;
import org.apache.beam.runners.spark.SparkPipelineOptions;
import org.apache.beam.runners.spark.SparkRunner;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;

class SparkDefaultsTest {
  private static final String LOCAL_ALL_CORES =
      "--sparkMaster=local[" + Runtime.getRuntime().availableProcessors() + "]";

  @Test
  void addsMasterAndStorageLevelWhenNotGiven() {
    assertEquals(
        List.of("--runner=SparkRunner", LOCAL_ALL_CORES, "--storageLevel=MEMORY_AND_DISK"),
        SparkDefaults.apply(List.of("--runner=SparkRunner")));
  }

  @Test
  void keepsTheCallersChoice() {
    assertEquals(
        List.of("--sparkMaster=local[2]", "--storageLevel=MEMORY_ONLY"),
        SparkDefaults.apply(List.of("--sparkMaster=local[2]", "--storageLevel=MEMORY_ONLY")));
  }

  /**
   * Beam 2.62.0 stages the whole classpath unless the master matches {@code local\[?\d*]?}
   * (SparkCommonPipelineOptions.prepareFilesToStage): the default must match it, {@code local[*]}
   * does not.
   */
  @Test
  void defaultMasterIsOneBeamDoesNotStageTheClasspathFor() {
    String master = LOCAL_ALL_CORES.substring("--sparkMaster=".length());
    assertTrue(master.matches("local\\[?\\d*]?"), master);
    assertTrue(!"local[*]".matches("local\\[?\\d*]?"), "why local[*] is not the default");
  }

  /** The pipeline's main looks the defaults up through the service registration. */
  @Test
  void registeredForTheSparkRunnerFlag() {
    assertEquals(
        List.of("--runner=SparkRunner", LOCAL_ALL_CORES, "--storageLevel=MEMORY_AND_DISK"),
        RunnerSupports.withDefaults(List.of("--runner=SparkRunner")));
    assertEquals(
        List.of("--runner=org.apache.beam.runners.spark.SparkRunner", "--sparkMaster=local[2]"),
        RunnerSupports.withDefaults(
                List.of(
                    "--runner=org.apache.beam.runners.spark.SparkRunner", "--sparkMaster=local[2]"))
            .subList(0, 2));
  }

  /** The shaded jar's entry point parses the pipeline's and Spark's flags together. */
  @Test
  void pipelineAndSparkFlagsParseTogether() {
    List<String> args =
        RunnerSupports.withDefaults(
            List.of(
                "--runner=SparkRunner",
                "--bootstrapServers=127.0.0.1:9092",
                "--topic=events",
                "--mode=HISTORICAL",
                "--jdbcUrl=jdbc:h2:mem:x",
                "--viewVersion=v1"));
    KappaBeamOptions o =
        PipelineOptionsFactory.fromArgs(args.toArray(new String[0]))
            .withValidation()
            .as(KappaBeamOptions.class);
    SparkPipelineOptions spark = o.as(SparkPipelineOptions.class);
    assertEquals(SparkRunner.class, o.getRunner());
    assertEquals(LOCAL_ALL_CORES.substring("--sparkMaster=".length()), spark.getSparkMaster());
    assertEquals("MEMORY_AND_DISK", spark.getStorageLevel());
    assertTrue(spark.getEnableSparkMetricSinks(), "left at Beam's default: see SparkDefaults");
  }
}
