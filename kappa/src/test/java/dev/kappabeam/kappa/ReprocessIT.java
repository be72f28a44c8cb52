package dev.kappabeam.kappa;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.pipelines.kafka.KafkaClientConfig;
import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.pipelines.options.RunMode;
import dev.kappabeam.runners.testkit.ParityFixture;
import dev.kappabeam.serving.RegisteredVersion;
import dev.kappabeam.serving.RegisteredVersion.Status;
import dev.kappabeam.serving.RegistryException;
import dev.kappabeam.serving.StoreConfig;
import dev.kappabeam.serving.ViewDiff;
import dev.kappabeam.serving.ViewRegistry;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.events.EventType;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.Views;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.values.Row;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The Kappa lifecycle as a library, without the command line: {@link Reprocess} builds a first
 * version and cuts over to it, a second version with other logic waits caught up without a cutover,
 * is resumed with its recorded logic and cut over, the first is retired and dropped, and a
 * reprocess of a taken version is refused. The parity fixture's local stack and workload, the
 * oracle as the expected view, DirectRunner.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class ReprocessIT {
  private static final ViewDefinition VIEW = Views.ACTIVITY_PER_MINUTE;

  private static ParityFixture fixture;
  private static StoreConfig store;

  @BeforeAll
  static void start() throws Exception {
    Path dir = Path.of("target", "it-stacks", "ReprocessIT-" + System.currentTimeMillis());
    fixture = ParityFixture.start(dir, "kappa-reprocess", 400);
    store = fixture.storeConfig();
  }

  @AfterAll
  static void stop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  @Test
  void buildsCutsOverResumesWithTheRecordedLogicAndRefusesATakenVersion() throws Exception {
    String topic = fixture.topic();
    Recorder out = new Recorder();

    // v1 from the start of the log, with "view" events left out; no version is live yet.
    new Reprocess(store, request(topic, "v1", true), jobs("view", true), out).run();
    assertEquals("v1", out.cutOverTo);
    assertNull(out.previous, "nothing was live before v1");
    try (ViewRegistry registry = new ViewRegistry(store);
        ViewStore views = new ViewStore(store)) {
      assertEquals(Optional.of("v1"), registry.live(VIEW.name()));
      assertSame(oracle(EnumSet.of(EventType.VIEW)), views.readLive(VIEW), "v1 (the alias)");
    }

    // v2 with all event types: caught up, but no cutover asked for; v1 keeps serving.
    out = new Recorder();
    new Reprocess(store, request(null, "v2", false), jobs("", true), out).run();
    assertEquals("v2", out.caughtUp);
    assertNull(out.cutOverTo);
    try (ViewRegistry registry = new ViewRegistry(store)) {
      RegisteredVersion v2 = registry.get(VIEW.name(), "v2").orElseThrow();
      assertEquals(Status.BUILDING, v2.status());
      assertEquals(topic, v2.topic(), "the topic of the live version");
      assertTrue(v2.jobArgs().endsWith("--excludeTypes="), v2.jobArgs());
      assertEquals(Optional.of("v1"), registry.live(VIEW.name()));
    }

    // Recorded by another build of the code (its fingerprint differs): never resumed.
    String recorded = setFingerprint("v2", "another-build");
    IllegalArgumentException otherCode =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new Reprocess(store, request(null, "v2", true), jobs("view", false), new Recorder())
                    .run());
    assertTrue(otherCode.getMessage().contains("built by other code"), otherCode.getMessage());
    setFingerprint("v2", recorded);

    // Resumed without logic of its own: rebuilt with v2's recorded logic (not this caller's
    // "exclude views"), then cut over; v1 is retired and named as the previous version.
    out = new Recorder();
    new Reprocess(store, request(null, "v2", true), jobs("view", false), out).run();
    assertTrue(
        out.lines.stream().anyMatch(l -> l.startsWith("kb: resuming version v2")),
        out.lines::toString);
    assertEquals("v2", out.cutOverTo);
    assertNotNull(out.previous);
    assertEquals("v1", out.previous.version());
    try (ViewRegistry registry = new ViewRegistry(store);
        ViewStore views = new ViewStore(store)) {
      assertEquals(Optional.of("v2"), registry.live(VIEW.name()));
      assertEquals(Status.RETIRED, registry.get(VIEW.name(), "v1").orElseThrow().status());
      assertSame(oracle(EnumSet.noneOf(EventType.class)), views.readLive(VIEW), "v2");
    }

    // v2 is live and its job ended cleanly: a reprocess of it again is refused.
    KappaException taken =
        assertThrows(
            KappaException.class,
            () ->
                new Reprocess(store, request(null, "v2", true), jobs("", true), new Recorder())
                    .run());
    assertEquals(KappaException.Kind.CONFLICT, taken.kind());
    assertTrue(taken.getMessage().contains("is already live"), taken.getMessage());

    // The retired v1 is dropped with its table and consumer group; the live v2 cannot be.
    Versions versions =
        new Versions(store, KafkaClientConfig.of(fixture.stack().bootstrapServers()));
    Versions.Dropped dropped = versions.drop(VIEW, "v1");
    assertTrue(dropped.tableDropped());
    assertEquals("kappa-beam." + topic + ".v1", dropped.consumerGroup());
    assertEquals(List.of(), dropped.groupSharedWith());
    assertTrue(dropped.groupDeleted());
    try (ViewRegistry registry = new ViewRegistry(store);
        ViewStore views = new ViewStore(store)) {
      assertEquals(Status.DROPPED, registry.get(VIEW.name(), "v1").orElseThrow().status());
      assertFalse(views.tableExists(VIEW, "v1"));
    }
    assertThrows(RegistryException.class, () -> versions.drop(VIEW, "v2"));
  }

  /** Sets a registered version's fingerprint as another build would have; returns the old one. */
  private static String setFingerprint(String version, String fingerprint) throws Exception {
    String old;
    try (ViewRegistry registry = new ViewRegistry(store)) {
      old = registry.get(VIEW.name(), version).orElseThrow().fingerprint();
    }
    try (java.sql.Connection c =
            java.sql.DriverManager.getConnection(store.jdbcUrl(), store.user(), store.password());
        java.sql.PreparedStatement ps =
            c.prepareStatement(
                "UPDATE \"kb_view_versions\" SET \"fingerprint\" = ?"
                    + " WHERE \"view_name\" = ? AND \"version\" = ?")) {
      ps.setString(1, fingerprint);
      ps.setString(2, VIEW.name());
      ps.setString(3, version);
      assertEquals(1, ps.executeUpdate());
    }
    return old;
  }

  private static Reprocess.Request request(@Nullable String topic, String version, boolean cut) {
    return new Reprocess.Request(
        VIEW,
        version,
        topic,
        "earliest",
        0,
        Duration.ofSeconds(3),
        Duration.ofSeconds(15),
        cut,
        true);
  }

  /** DirectRunner options with the runner's defaults, as an application builds them. */
  private static JobOptions jobs(String excludeTypes, boolean logicGiven) {
    return new JobOptions() {
      @Override
      public KappaBeamOptions build(RunMode mode, boolean drain) {
        KappaBeamOptions o =
            fixture.options(List.of("--runner=DirectRunner", "--blockOnRun=false"), mode, drain);
        o.setExcludeTypes(excludeTypes);
        return o;
      }

      @Override
      public boolean logicGiven() {
        return logicGiven;
      }
    };
  }

  private static List<Row> oracle(EnumSet<EventType> excluded) {
    return fixture.expected(ViewParameters.defaults().withExcludedTypes(excluded)).rows(VIEW);
  }

  private static void assertSame(List<Row> expected, List<Row> actual, String what) {
    ViewDiff diff = ViewDiff.compare(VIEW, expected, actual);
    assertTrue(
        diff.isEmpty(), () -> what + " differs from the oracle:\n" + diff.format("oracle", what));
  }

  /** What a {@link Reprocess} told its user. */
  private static final class Recorder implements Reprocess.Listener {
    final List<String> lines = new ArrayList<>();
    @Nullable String caughtUp;
    @Nullable String cutOverTo;
    @Nullable RegisteredVersion previous;

    @Override
    public void info(String line) {
      lines.add(line);
    }

    @Override
    public void caughtUp(ViewDefinition view, String version) {
      caughtUp = version;
    }

    @Override
    public void cutOver(
        ViewDefinition view,
        String version,
        ViewRegistry.Switch sw,
        @Nullable RegisteredVersion previous) {
      cutOverTo = version;
      this.previous = previous;
    }
  }
}
