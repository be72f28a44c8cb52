package dev.kappabeam.runners.direct;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.runners.testkit.PluginFixture;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A team's plug-in jar on this module's shaded jar, as runners/direct/README.md says to run it:
 * {@code java -cp <shaded jar>:<plug-in jar> KappaBeamPipeline --views=<the plug-in's view> ...} in
 * a process of its own, whose class path holds nothing else. ServiceLoader must find the plug-in's
 * provider in its jar, and the plug-in's own event format, aggregation and coder must run on the
 * shaded jar's Beam, Kafka and serving classes: the view's rows equal the fixture's oracle and the
 * format's two rejects reach the dead-letter topic. Without the plug-in jar the same command fails
 * naming the unknown view.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class DirectShadedJarPluginIT {
  @TempDir static Path tempDir;

  private static PluginFixture fixture;
  private static Path shadedJar;

  @BeforeAll
  static void start() throws Exception {
    shadedJar = PluginFixture.shadedJar();
    fixture = PluginFixture.start(tempDir, "direct-plugin");
  }

  @AfterAll
  static void stop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  @Test
  void thePluginsViewRunsFromItsJarOnTheShadedJarAndEqualsItsOracle() throws Exception {
    PluginFixture.Run run =
        fixture.runShadedJar(shadedJar, true, "p1", "--runner=DirectRunner", "--mode=HISTORICAL");
    assertEquals(0, run.exitCode(), PluginFixture.tail(run.output()));
    fixture.assertViewEqualsOracle("p1");
    fixture.assertDeadLetters();
  }

  @Test
  void withoutThePluginJarTheShadedJarRefusesTheUnknownView() throws Exception {
    PluginFixture.Run run =
        fixture.runShadedJar(shadedJar, false, "p2", "--runner=DirectRunner", "--mode=HISTORICAL");
    assertEquals(2, run.exitCode(), run.output());
    assertTrue(
        run.output().contains("kappa-beam: error: unknown view " + PluginFixture.VIEW + ";")
            && !run.output().contains("\tat "),
        "one line, no stack trace: " + run.output());
  }
}
