package dev.kappabeam.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The read-progress table on a real database: H2 ({@link ReadProgressH2Test}) and PostgreSQL
 * ({@link ReadProgressPostgresIT}).
 */
abstract class AbstractReadProgressTest {
  abstract StoreConfig freshConfig();

  void cleanUp(StoreConfig config) {}

  StoreConfig config;
  ReadProgress progress;

  @BeforeEach
  void open() {
    config = freshConfig();
    progress = new ReadProgress(config);
  }

  @AfterEach
  void close() {
    if (config == null) {
      return; // skipped before it opened anything (no PostgreSQL)
    }
    progress.close();
    cleanUp(config);
  }

  @Test
  void reportsOfOneRunAddRecordsAndKeepTheHighestOffset() {
    progress.report("g", "events", "run1", 0, 100, 100);
    progress.report("g", "events", "run1", 1, 40, 40);
    progress.report("g", "events", "run1", 0, 250, 150);
    // A bundle that finishes late does not move the position back; its records still count.
    progress.report("g", "events", "run1", 0, 200, 10);

    assertEquals(Map.of(0, List.of(250L, 260L), 1, List.of(40L, 40L)), values("g", "run1"));
    assertEquals(values("g", "run1"), values("g", null));
  }

  @Test
  void aNewRunOfTheGroupStartsAgainAndHidesTheOldRun() {
    progress.report("g", "events", "run1", 0, 900, 900);
    progress.report("g", "events", "run2", 0, 10, 10);

    assertEquals(Map.of(0, List.of(10L, 10L)), values("g", "run2"));
    assertEquals(Map.of(), values("g", "run1"));
  }

  @Test
  void groupsAndTopicsAreSeparateAndDeleteRemovesOneGroup() {
    progress.report("g1", "events", "r", 0, 5, 5);
    progress.report("g2", "events", "r", 0, 7, 7);
    progress.report("g1", "other", "r", 0, 9, 9);

    assertEquals(Map.of(0, List.of(5L, 5L)), values("g1", "r"));
    assertEquals(2, progress.delete("g1"));
    assertEquals(Map.of(), values("g1", "r"));
    assertEquals(Map.of(0, List.of(7L, 7L)), values("g2", "r"));
  }

  @Test
  void updatedAtIsStamped() {
    progress.report("g", "events", "r", 3, 1, 1);
    assertTrue(progress.read("g", "events", "r").get(3).updatedAt() != null);
  }

  @Test
  void negativeValuesAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> progress.report("g", "t", "r", -1, 1, 1));
    assertThrows(IllegalArgumentException.class, () -> progress.report("g", "t", "r", 0, -1, 1));
    assertThrows(IllegalArgumentException.class, () -> progress.report("g", "t", "r", 0, 1, -1));
  }

  private Map<Integer, List<Long>> values(String group, String run) {
    return progress.read(group, "events", run).entrySet().stream()
        .collect(
            Collectors.toMap(
                Map.Entry::getKey,
                e -> List.of(e.getValue().nextOffset(), e.getValue().records())));
  }
}
