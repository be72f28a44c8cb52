package dev.kappabeam.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CatchUpTest {
  private static final Instant T0 = Instant.parse("2026-12-06T10:00:00Z");
  private static final Duration HOLD = Duration.ofSeconds(4);

  private static CatchUp.Observation at(
      int second, Map<Integer, Long> end, Map<Integer, Long> read, Object table) {
    return new CatchUp.Observation(T0.plusSeconds(second), end, read, Map.of(), table);
  }

  @Test
  void quietTopicCatchesUpOnceEverythingIsReadAndTheTableHeldStillForTheHold() {
    CatchUp rule = CatchUp.of(Map.of(0, 0L, 1, 0L), 0, HOLD);
    Map<Integer, Long> end = Map.of(0, 100L, 1, 50L);

    CatchUp.Verdict v = rule.observe(at(0, end, Map.of(0, 40L), "rows=3"));
    assertFalse(v.steady());
    assertEquals(Map.of(0, 60L, 1, 50L), v.remaining());
    assertEquals(40, v.read());

    assertFalse(rule.observe(at(2, end, Map.of(0, 100L, 1, 50L), "rows=9")).steady());
    // Everything read, the table still moves as the last windows fire.
    assertFalse(rule.observe(at(4, end, Map.of(0, 100L, 1, 50L), "rows=12")).steady());
    CatchUp.Verdict steady = rule.observe(at(6, end, Map.of(0, 100L, 1, 50L), "rows=12"));
    assertTrue(steady.steady());
    assertFalse(steady.caughtUp());
    assertEquals(0, steady.remainingTotal());
    assertFalse(rule.observe(at(8, end, Map.of(0, 100L, 1, 50L), "rows=12")).caughtUp());
    CatchUp.Verdict done = rule.observe(at(10, end, Map.of(0, 100L, 1, 50L), "rows=12"));
    assertTrue(done.caughtUp());
    assertEquals(HOLD, done.steadyFor());
  }

  @Test
  void aTableChangeBreaksTheHold() {
    CatchUp rule = CatchUp.of(Map.of(0, 0L), 0, HOLD);
    Map<Integer, Long> end = Map.of(0, 10L);
    rule.observe(at(0, end, Map.of(0, 10L), 1));
    assertTrue(rule.observe(at(2, end, Map.of(0, 10L), 1)).steady());
    assertFalse(rule.observe(at(4, end, Map.of(0, 10L), 2)).steady());
    assertTrue(rule.observe(at(6, end, Map.of(0, 10L), 2)).steady());
    assertFalse(rule.observe(at(8, end, Map.of(0, 10L), 2)).caughtUp());
    assertTrue(rule.observe(at(10, end, Map.of(0, 10L), 2)).caughtUp());
  }

  @Test
  void busyTopicCatchesUpWhenTheBacklogIsReadAndTheJobKeepsUp() {
    CatchUp rule = CatchUp.of(Map.of(0, 0L), 0, HOLD);
    // Launched with a backlog of 1,000; 20 new records arrive every tick.
    rule.observe(at(0, Map.of(0, 1000L), Map.of(0, 100L), 1));
    assertFalse(rule.observe(at(2, Map.of(0, 1020L), Map.of(0, 900L), 2)).steady());
    // Backlog read and everything of the previous tick read: steady although the table moves.
    assertTrue(rule.observe(at(4, Map.of(0, 1040L), Map.of(0, 1020L), 3)).steady());
    assertTrue(rule.observe(at(6, Map.of(0, 1060L), Map.of(0, 1045L), 4)).steady());
    CatchUp.Verdict v = rule.observe(at(8, Map.of(0, 1080L), Map.of(0, 1060L), 5));
    assertTrue(v.caughtUp());
    assertEquals(20, v.remainingTotal());
  }

  @Test
  void fallingBehindTheLogIsNotSteady() {
    CatchUp rule = CatchUp.of(Map.of(0, 0L), 5, HOLD);
    rule.observe(at(0, Map.of(0, 100L), Map.of(0, 100L), 1));
    assertTrue(rule.observe(at(2, Map.of(0, 200L), Map.of(0, 100L), 2)).steady());
    // 50 of the previous tick's 200 records unread: more than the 5 allowed.
    assertFalse(rule.observe(at(4, Map.of(0, 300L), Map.of(0, 150L), 3)).steady());
    // 4 unread: within the allowed lag.
    assertTrue(rule.observe(at(6, Map.of(0, 400L), Map.of(0, 296L), 4)).steady());
  }

  @Test
  void committedOffsetsCountWhenTheJobReportedLessOrNothing() {
    // A transaction marker at offset 9: the last record read is 8, the consumer's position 10.
    CatchUp rule = CatchUp.of(Map.of(0, 0L), 0, Duration.ZERO);
    Map<Integer, Long> end = Map.of(0, 10L);
    rule.observe(new CatchUp.Observation(T0, end, Map.of(0, 9L), Map.of(0, 10L), 1));
    CatchUp.Verdict v =
        rule.observe(
            new CatchUp.Observation(T0.plusSeconds(2), end, Map.of(0, 9L), Map.of(0, 10L), 1));
    assertEquals(Map.of(0, 10L), v.position());
    assertTrue(v.caughtUp());
  }

  @Test
  void readIsCountedFromTheStartOffsetsAndEmptyPartitionsAreCaughtUp() {
    CatchUp rule = CatchUp.of(Map.of(0, 500L, 1, 30L), 0, Duration.ZERO);
    Map<Integer, Long> end = Map.of(0, 600L, 1, 30L);
    CatchUp.Verdict first = rule.observe(at(0, end, Map.of(), 0));
    assertEquals(Map.of(0, 100L, 1, 0L), first.remaining());
    assertEquals(0, first.read());
    rule.observe(at(2, end, Map.of(0, 600L), 0));
    CatchUp.Verdict v = rule.observe(at(4, end, Map.of(0, 600L), 0));
    assertEquals(100, v.read());
    assertTrue(v.caughtUp());
  }

  @Test
  void settingsAreValidated() {
    assertThrows(IllegalArgumentException.class, () -> CatchUp.of(Map.of(), -1, HOLD));
    assertThrows(
        IllegalArgumentException.class, () -> CatchUp.of(Map.of(), 0, Duration.ofSeconds(-1)));
  }
}
