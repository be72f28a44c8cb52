package dev.kappabeam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.kappa.JobHost;
import dev.kappabeam.pipelines.options.ServingStoreOptions;
import dev.kappabeam.serving.StoreOutageException;
import java.sql.SQLException;
import java.time.Duration;
import org.apache.beam.sdk.Pipeline.PipelineExecutionException;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code --outage-grace} and the one line that names why a run failed. */
class OutageGraceTest {
  private static OutageGrace parse(String... args) {
    OutageGrace grace = new OutageGrace();
    new CommandLine(grace).parseArgs(args);
    return grace;
  }

  @Test
  void theGraceDefaultsToTwoMinutesAndReachesTheWorkersAndOtherCommands() {
    assertEquals(Duration.ofMinutes(2), parse().duration());
    OutageGrace set = parse("--outage-grace", "PT20S");
    assertEquals(Duration.ofSeconds(20), set.duration());
    ServingStoreOptions o = PipelineOptionsFactory.create().as(ServingStoreOptions.class);
    set.applyTo(o);
    assertEquals("PT20S", o.getOutageGrace());
  }

  @Test
  void aGraceThatIsNotADurationIsBadUsageThatSaysWhatToWrite() {
    for (String bad : new String[] {"2m", "-PT5S"}) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class, () -> parse("--outage-grace", bad).duration());
      assertTrue(e.getMessage().contains("e.g. PT2M"), e.getMessage());
    }
  }

  @Test
  void theCauseOfAFailedRunIsTheStoresMessageWithCredentialsMasked() {
    StoreOutageException outage =
        new StoreOutageException(
            "the serving store at jdbc:postgresql://db/kb?password=s3cret was unreachable for 21.0"
                + " s, beyond the outage grace of 20.0 s: cannot apply 3 rows",
            new SQLException("Connection refused", "08001"));
    String cause = JobHost.failureCause(new PipelineExecutionException(outage));
    assertTrue(cause.startsWith("the serving store at"), cause);
    assertTrue(cause.contains("beyond the outage grace"), cause);
    assertTrue(!cause.contains("s3cret"), cause);
    // A crash elsewhere: the innermost message, with its type.
    String crash =
        JobHost.failureCause(
            new PipelineExecutionException(new IllegalStateException("boom in a DoFn")));
    assertEquals("IllegalStateException: boom in a DoFn", crash);
  }
}
