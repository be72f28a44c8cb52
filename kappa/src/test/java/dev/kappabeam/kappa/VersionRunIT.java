package dev.kappabeam.kappa;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.generator.WorkloadGenerator;
import dev.kappabeam.pipelines.KappaBeamPipeline;
import dev.kappabeam.pipelines.kafka.KafkaOffsets;
import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.pipelines.options.RunMode;
import dev.kappabeam.runners.testkit.ParityFixture;
import dev.kappabeam.serving.ViewRegistry;
import dev.kappabeam.transforms.views.Views;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Where {@link VersionRun} puts a streaming version's consumer group before its job starts, on a
 * real broker: the log is produced in two parts with an instant between them.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class VersionRunIT {
  private static ParityFixture fixture;
  private static Instant between;

  @BeforeAll
  static void start() throws Exception {
    Path dir = Path.of("target", "it-stacks", "VersionRunIT-" + System.currentTimeMillis());
    fixture = ParityFixture.start(dir, "version-run", 300, 150, WorkloadGenerator.DEFAULT_START);
    Thread.sleep(50);
    between = Instant.now();
    Thread.sleep(50);
    fixture.produceRemaining();
  }

  @AfterAll
  static void stop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  /**
   * An open-ended streaming version started at an instant reads from there (its options say
   * earliest: KafkaIO starts a new group at earliest or latest only, so the group is put at the
   * instant), and so does its resume: rewound to the instant, not to the start of the log.
   */
  @Test
  void aVersionStartedAtAnInstantStartsAndResumesThere() {
    String group = "version-run-" + System.nanoTime();
    Map<TopicPartition, Long> atInstant = offsets(OffsetSpec.forTimestamp(between.toEpochMilli()));
    assertNotEquals(offsets(OffsetSpec.earliest()), atInstant, "the instant splits the log");

    run(group, false).positionGroup();
    assertEquals(atInstant, committed(group), "a new group starts at the instant");

    try (KafkaOffsets kafka = kafka()) {
      kafka.commit(group, offsets(OffsetSpec.latest())); // the job read everything, then died
    }
    run(group, true).positionGroup();
    assertEquals(atInstant, committed(group), "a resume rewinds to the instant");
  }

  /** A version started with other logic (another allowed lateness) is not resumed with this. */
  @Test
  void aResumeWithOtherLogicIsRefusedBeforeAnythingRuns() {
    String group = "version-run-other-" + System.nanoTime();
    KappaBeamOptions started =
        fixture.options(List.of("--runner=DirectRunner"), RunMode.STREAMING, false);
    VersionRun.targeting(started, fixture.topic(), "v_other", "activity_per_minute", group);
    started.setAllowedLateness("PT2H");
    try (ViewRegistry registry = new ViewRegistry(fixture.storeConfig())) {
      registry.register(
          VersionRun.building(Views.ACTIVITY_PER_MINUTE, started, between.toString()));
    }
    KappaBeamOptions resumed =
        fixture.options(List.of("--runner=DirectRunner"), RunMode.STREAMING, false);
    VersionRun.targeting(resumed, fixture.topic(), "v_other", "activity_per_minute", group);
    KappaException e =
        assertThrows(
            KappaException.class,
            () ->
                new VersionRun(
                        new VersionRun.Request(resumed, between.toString(), null, true), QUIET)
                    .run());
    assertEquals(KappaException.Kind.CONFLICT, e.kind());
    assertTrue(e.getMessage().contains("was started with other logic or code"), e.getMessage());
    assertTrue(committed(group).isEmpty(), "refused before the group was positioned");
  }

  private static final VersionRun.Listener QUIET =
      new VersionRun.Listener() {
        @Override
        public void info(String line) {}

        @Override
        public void finished(Map<String, Long> counters) {}
      };

  private static VersionRun run(String group, boolean resume) {
    KappaBeamOptions o =
        fixture.options(List.of("--runner=DirectRunner"), RunMode.STREAMING, false);
    VersionRun.targeting(o, fixture.topic(), "v1", "activity_per_minute", group);
    return new VersionRun(
        new VersionRun.Request(o, between.toString(), null, resume),
        new VersionRun.Listener() {
          @Override
          public void info(String line) {}

          @Override
          public void finished(Map<String, Long> counters) {}
        });
  }

  private static KafkaOffsets kafka() {
    KappaBeamOptions o =
        fixture.options(List.of("--runner=DirectRunner"), RunMode.STREAMING, false);
    return new KafkaOffsets(KappaBeamPipeline.kafkaClients(o));
  }

  private static Map<TopicPartition, Long> offsets(OffsetSpec spec) {
    try (KafkaOffsets kafka = kafka()) {
      return kafka.offsets(kafka.partitions(fixture.topic()), spec);
    }
  }

  private static Map<TopicPartition, Long> committed(String group) {
    try (KafkaOffsets kafka = kafka()) {
      return kafka.committed(group, kafka.partitions(fixture.topic()));
    }
  }
}
