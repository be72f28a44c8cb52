package dev.kappabeam.cli;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.generator.WorkloadGenerator;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** {@code kb generate}'s default event_id prefix: new for every run, usable by the generator. */
class GenerateCommandTest {
  @Test
  void everyRunGetsItsOwnIdPrefix() {
    Instant now = Instant.parse("2026-12-07T02:30:00Z");
    Set<String> prefixes = new HashSet<>();
    for (int i = 0; i < 20; i++) {
      String p = GenerateCommand.runPrefix(now.plusMillis(i));
      assertTrue(p.matches("e-[0-9a-z]+-"), p);
      WorkloadGenerator.seeded(1).withEventIdPrefix(p); // accepted
      prefixes.add(p);
    }
    assertTrue(prefixes.size() == 20, prefixes.toString());
    // Two runs in the same millisecond still differ (almost always: 1,296 salts).
    int same = 0;
    for (int i = 0; i < 50; i++) {
      if (GenerateCommand.runPrefix(now).equals(GenerateCommand.runPrefix(now))) {
        same++;
      }
    }
    assertTrue(same < 5, same + " of 50 pairs in one millisecond shared a prefix");
    assertNotEquals(
        GenerateCommand.runPrefix(now), WorkloadGenerator.DEFAULT_EVENT_ID_PREFIX, "never e-");
  }
}
