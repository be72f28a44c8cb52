package dev.kappabeam.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The per-version counters table on a real database: H2 ({@link VersionCountersH2Test}) and
 * PostgreSQL ({@link VersionCountersPostgresIT}).
 */
abstract class AbstractVersionCountersTest {
  private static final Instant T1 = Instant.parse("2026-11-25T10:00:00.123Z");
  private static final Instant T2 = Instant.parse("2026-11-25T10:00:05.456Z");

  abstract StoreConfig freshConfig();

  void cleanUp(StoreConfig config) {}

  StoreConfig config;
  VersionCounters counters;

  @BeforeEach
  void open() {
    config = freshConfig();
    counters = new VersionCounters(config);
  }

  @AfterEach
  void close() {
    if (config == null) {
      return; // skipped before it opened anything (no PostgreSQL)
    }
    counters.close();
    cleanUp(config);
  }

  @Test
  void publishThenRepublishKeepsTheLatestValuesAndTime() {
    counters.publish("activity_per_minute", "v2", Map.of("read", 10L, "accepted", 7L), T1);
    counters.publish(
        "activity_per_minute", "v2", Map.of("read", 25L, "accepted", 20L, "late", 1L), T2);

    VersionCounters.Snapshot s = counters.read("activity_per_minute", "v2");
    assertEquals(Map.of("read", 25L, "accepted", 20L, "late", 1L), s.values());
    assertEquals(T2, s.updatedAt());
    assertEquals(0L, s.get("dead_lettered"), "a counter never published reads as 0");
  }

  @Test
  void aJobsCountersArePublishedForEveryViewItBuilds() {
    List<RegisteredVersion> job =
        List.of(version("activity_per_minute", "v1"), version("user_sessions", "v1"));
    counters.publish(job, Map.of("read", 100L, "dead_lettered", 3L));
    counters.publish("activity_per_minute", "v10", Map.of("read", 5L), T1);
    counters.publish("activity_per_minute", "v2", Map.of("read", 6L), T1);

    List<VersionCounters.Snapshot> all = counters.readAll();
    List<String> order = new ArrayList<>();
    all.forEach(s -> order.add(s.view() + "/" + s.version()));
    assertEquals(
        List.of(
            "activity_per_minute/v1",
            "activity_per_minute/v2",
            "activity_per_minute/v10",
            "user_sessions/v1"),
        order,
        "by view, then natural version order");
    assertEquals(100L, all.get(3).get("read"));
    assertEquals(3L, all.get(0).get("dead_lettered"));
  }

  @Test
  void unknownVersionReadsEmptyAndDeleteRemovesOnlyThatVersion() {
    VersionCounters.Snapshot none = counters.read("activity_per_minute", "v9");
    assertTrue(none.values().isEmpty());
    assertNull(none.updatedAt());

    counters.publish("activity_per_minute", "v1", Map.of("read", 1L, "accepted", 1L), T1);
    counters.publish("activity_per_minute", "v2", Map.of("read", 2L), T1);
    assertEquals(2, counters.delete("activity_per_minute", "v1"));
    assertTrue(counters.read("activity_per_minute", "v1").values().isEmpty());
    assertEquals(2L, counters.read("activity_per_minute", "v2").get("read"));
  }

  @Test
  void badCounterNamesAndNegativeValuesAreRefused() {
    assertThrows(
        IllegalArgumentException.class,
        () -> counters.publish("activity_per_minute", "v1", Map.of("Read-Count", 1L), T1));
    assertThrows(
        IllegalArgumentException.class,
        () -> counters.publish("activity_per_minute", "v1", Map.of("read", -1L), T1));
    assertTrue(counters.readAll().isEmpty(), "nothing of a refused publish is written");
  }

  @Test
  void concurrentPublishersOfOneVersionNeitherFailNorLoseTheRow() throws Exception {
    // Two processes inserting the same first row at once: the loser's MERGE is retried.
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        long base = t * 1000L;
        futures.add(
            pool.submit(
                () -> {
                  try (VersionCounters own = new VersionCounters(config)) {
                    for (int i = 0; i < 20; i++) {
                      own.publish(
                          "item_revenue_hourly", "v1", Map.of("read", base + i), T1.plusMillis(i));
                    }
                  }
                }));
      }
      for (Future<?> f : futures) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    long read = counters.read("item_revenue_hourly", "v1").get("read");
    assertTrue(read % 1000 == 19, "the last value some publisher wrote, got " + read);
  }

  private static RegisteredVersion version(String view, String version) {
    return RegisteredVersion.building(
        view,
        version,
        "events",
        "kappa-beam.events." + version,
        "earliest",
        "DirectRunner",
        null,
        null,
        null,
        null);
  }
}
