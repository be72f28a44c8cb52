package dev.kappabeam.lambda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.kappa.JobOptions;
import dev.kappabeam.kappa.VersionRun;
import dev.kappabeam.runners.testkit.ParityFixture;
import dev.kappabeam.serving.LambdaRegistry;
import dev.kappabeam.serving.ViewDiff;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.CounterNames;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.Views;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.values.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The Lambda layers as a library, without the command line: a {@link Batch} over the first part of
 * the parity workload (cutoff = the end offsets then), the rest produced after it, a drained {@link
 * Speed} from the cutoff that rebases readers; the merged read of every reference view equals the
 * oracle of the whole workload, and the counts of both runs add up. DirectRunner.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class LambdaLayersIT {
  private static final int COUNT = 600;
  private static final int BEFORE_CUTOFF = 350;

  private static ParityFixture fixture;

  @BeforeAll
  static void start() throws Exception {
    Path dir = Path.of("target", "it-stacks", "LambdaLayersIT-" + System.currentTimeMillis());
    fixture =
        ParityFixture.start(
            dir,
            "lambda-layers",
            COUNT,
            BEFORE_CUTOFF,
            dev.kappabeam.generator.WorkloadGenerator.DEFAULT_START);
  }

  @AfterAll
  static void stop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  @Test
  void batchThenSpeedMergeToTheOracle() throws Exception {
    List<ViewDefinition> views = Views.all();
    Recorder out = new Recorder();
    assertThrows(
        IllegalArgumentException.class,
        () -> new Speed(fixture.storeConfig(), jobs(), out).run(speed(views)),
        "no batch yet");

    Batch.Result batch =
        new Batch(fixture.storeConfig(), jobs(), out)
            .run(new Batch.Request(views, fixture.topic(), "now"));
    assertEquals(
        BEFORE_CUTOFF,
        batch.offsets().values().stream().mapToLong(Long::longValue).sum(),
        "the cutoff is the end offsets at launch");
    assertEquals(LambdaRegistry.Cutoff.batchVersion(batch.cutoffId()), batch.version());
    assertAddsUp(out.finished.get(0), "batch");

    fixture.produceRemaining();
    new Speed(fixture.storeConfig(), jobs(), out).run(speed(views));
    assertAddsUp(out.finished.get(1), "speed");

    try (LambdaRegistry lambda = new LambdaRegistry(fixture.storeConfig());
        ViewStore store = new ViewStore(fixture.storeConfig())) {
      for (ViewDefinition v : views) {
        LambdaRegistry.Live live = lambda.live(v.name()).orElseThrow();
        assertEquals(batch.version(), live.batchVersion(), v.name());
        List<Row> expected = fixture.expected().rows(v);
        List<Row> merged = lambda.read(store, v);
        ViewDiff diff = ViewDiff.compare(v, expected, merged);
        assertTrue(
            diff.isEmpty(),
            () ->
                v.name() + ": merged differs from the oracle:\n" + diff.format("oracle", "merged"));
      }
    }
  }

  private static Speed.Request speed(List<ViewDefinition> views) {
    return new Speed.Request(views, true, 0, Duration.ofSeconds(2));
  }

  private static void assertAddsUp(Map<String, Long> c, String what) {
    assertTrue(c.get(CounterNames.READ) > 0, what + ": " + c);
    assertEquals(
        (long) c.get(CounterNames.READ),
        c.get(CounterNames.ACCEPTED)
            + c.get(CounterNames.DEAD_LETTERED)
            + c.get(CounterNames.DUPLICATES_REMOVED)
            + c.get(CounterNames.LATE),
        what + ": read = accepted + dead-lettered + duplicates + late; " + c);
  }

  private static JobOptions jobs() {
    return (mode, drain) ->
        fixture.options(List.of("--runner=DirectRunner", "--blockOnRun=false"), mode, drain);
  }

  /** What the runs told their user. */
  private static final class Recorder implements VersionRun.Listener {
    final List<Map<String, Long>> finished = new ArrayList<>();

    @Override
    public void info(String line) {}

    @Override
    public void finished(Map<String, Long> counters) {
      finished.add(counters);
    }
  }
}
