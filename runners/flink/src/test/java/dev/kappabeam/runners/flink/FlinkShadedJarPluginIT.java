package dev.kappabeam.runners.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.runners.testkit.PluginFixture;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A team's plug-in jar on this module's shaded jar, run locally on the embedded MiniCluster as
 * runners/flink/README.md says: {@code java -cp <shaded jar>:<plug-in jar> KappaBeamPipeline
 * --runner=FlinkRunner --flinkMaster=[local] --views=<the plug-in's view> ...} in a process of its
 * own, whose class path holds nothing else. ServiceLoader must find the plug-in's provider in its
 * jar, and Flink's tasks must run the plug-in's own event format, aggregation and coder: the view's
 * rows equal the fixture's oracle and the format's two rejects reach the dead-letter topic. Without
 * the plug-in jar the same command fails naming the unknown view. Tagged {@code matrix} (CI and
 * scripts/test-matrix run it; about 35 s, 60 s on a busy machine): {@code DirectShadedJarPluginIT}
 * covers the same in the default suite.
 */
@Tag("matrix")
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class FlinkShadedJarPluginIT {
  private static final String[] LOCAL = {
    "--runner=FlinkRunner", "--flinkMaster=[local]", "--parallelism=2", "--mode=HISTORICAL"
  };

  @TempDir static Path tempDir;

  private static PluginFixture fixture;
  private static Path shadedJar;

  @BeforeAll
  static void start() throws Exception {
    shadedJar = PluginFixture.shadedJar("kb.flink.shadedJar");
    fixture = PluginFixture.start(tempDir, "flink-plugin");
  }

  @AfterAll
  static void stop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  @Test
  void thePluginsViewRunsFromItsJarOnTheShadedJarOnTheMiniClusterAndEqualsItsOracle()
      throws Exception {
    PluginFixture.Run run = fixture.runShadedJar(shadedJar, true, "f1", LOCAL);
    assertEquals(0, run.exitCode(), PluginFixture.tail(run.output()));
    fixture.assertViewEqualsOracle("f1");
    fixture.assertDeadLetters();
  }

  @Test
  void withoutThePluginJarTheShadedJarRefusesTheUnknownView() throws Exception {
    PluginFixture.Run run = fixture.runShadedJar(shadedJar, false, "f2", LOCAL);
    assertEquals(2, run.exitCode(), run.output());
    assertTrue(
        run.output().contains("kappa-beam: error: unknown view " + PluginFixture.VIEW + ";")
            && !run.output().contains("\tat "),
        "one line, no stack trace: " + run.output());
  }
}
