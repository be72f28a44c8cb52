package dev.kappabeam.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class AliasReadsTest {
  /** What H2 2.x reports for a query planned while another session replaced a view it reads. */
  private static SQLException race() {
    return new SQLException(
        "General error: \"java.util.ConcurrentModificationException\" [50000-240]", "HY000", 50000);
  }

  @Test
  void aReadThatLostTheRaceIsReadAgain() throws SQLException {
    AtomicInteger calls = new AtomicInteger();
    String read =
        AliasReads.retrying(
            () -> {
              if (calls.incrementAndGet() < 3) {
                throw race();
              }
              return "rows";
            });
    assertEquals("rows", read);
    assertEquals(3, calls.get());
  }

  @Test
  void anyOtherFailureIsThrownAtOnce() {
    AtomicInteger calls = new AtomicInteger();
    SQLException missing = new SQLException("Table not found", "42S02", 42102);
    SQLException thrown =
        assertThrows(
            SQLException.class,
            () ->
                AliasReads.retrying(
                    () -> {
                      calls.incrementAndGet();
                      throw missing;
                    }));
    assertSame(missing, thrown);
    assertEquals(1, calls.get());
    assertFalse(
        AliasReads.lostDdlRace(new SQLException("General error: \"boom\"", "HY000", 50000)));
  }

  @Test
  void aRaceThatPersistsIsReportedAfterTheLastAttempt() {
    AtomicInteger calls = new AtomicInteger();
    SQLException thrown =
        assertThrows(
            SQLException.class,
            () ->
                AliasReads.retrying(
                    () -> {
                      calls.incrementAndGet();
                      throw race();
                    }));
    assertTrue(AliasReads.lostDdlRace(thrown));
    assertEquals(AliasReads.ATTEMPTS, calls.get());
  }
}
