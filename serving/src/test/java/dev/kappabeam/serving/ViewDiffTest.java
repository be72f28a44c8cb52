package dev.kappabeam.serving;

import static dev.kappabeam.serving.TestRows.T0;
import static dev.kappabeam.serving.TestRows.activity;
import static dev.kappabeam.serving.TestRows.session;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.transforms.views.Views;
import java.util.List;
import org.apache.beam.sdk.values.Row;
import org.joda.time.DateTime;
import org.joda.time.DateTimeZone;
import org.joda.time.Duration;
import org.junit.jupiter.api.Test;

class ViewDiffTest {
  private static final Duration MIN = Duration.standardMinutes(1);

  @Test
  void compareMatchesRowsByKeyRegardlessOfOrder() {
    Row x = activity(T0, "view", 3, 2, 0);
    Row y = activity(T0.plus(MIN), "click", 1, 1, 0);
    assertTrue(ViewDiff.compare(Views.ACTIVITY_PER_MINUTE, List.of(x, y), List.of(y, x)).isEmpty());
  }

  @Test
  void compareSortsEachListByKey() {
    Row a1 = activity(T0.plus(MIN), "view", 1, 1, 0);
    Row a2 = activity(T0, "view", 1, 1, 0);
    Row b1 = activity(T0, "cart", 1, 1, 0);
    ViewDiff d = ViewDiff.compare(Views.ACTIVITY_PER_MINUTE, List.of(a1, a2), List.of(b1));
    assertEquals(List.of(a2, a1), d.onlyInA());
    assertEquals(List.of(b1), d.onlyInB());
    assertEquals(3, d.size());
  }

  @Test
  void timestampsCompareByInstantNotByZone() {
    Row utc = session("u-1", T0, T0.plus(MIN), 2, 0);
    Row berlin =
        Row.withSchema(Views.USER_SESSIONS.schema())
            .addValues(
                "u-1",
                new DateTime(T0.getMillis(), DateTimeZone.forID("Europe/Berlin")),
                new DateTime(T0.plus(MIN).getMillis(), DateTimeZone.forID("Europe/Berlin")),
                2L,
                0L)
            .build();
    assertTrue(ViewDiff.compare(Views.USER_SESSIONS, List.of(utc), List.of(berlin)).isEmpty());
  }

  @Test
  void changedRowsNameTheColumnsThatDiffer() {
    Row a = session("u-\"q\"", T0, T0.plus(MIN), 2, 0);
    Row b = session("u-\"q\"", T0, T0.plus(MIN).plus(MIN), 3, 0);
    ViewDiff d = ViewDiff.compare(Views.USER_SESSIONS, List.of(a), List.of(b));
    assertEquals(
        "user_sessions: batch vs stream: 0 only in batch, 0 only in stream, 1 changed\n"
            + "  changed: user_id=\"u-\\\"q\\\"\", session_start=2026-11-25T10:00:00.000Z:"
            + " session_end 2026-11-25T10:01:00.000Z -> 2026-11-25T10:02:00.000Z, events 2 -> 3\n",
        d.format("batch", "stream"));
  }

  @Test
  void rawPanesWithARepeatedKeyAreRejectedWithAHint() {
    Row p1 = activity(T0, "view", 1, 1, 0);
    Row p2 = activity(T0, "view", 2, 1, 0);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> ViewDiff.compare(Views.ACTIVITY_PER_MINUTE, List.of(p1, p2), List.of()));
    assertTrue(e.getMessage().contains("more than once"), e.getMessage());
    assertTrue(e.getMessage().contains("ViewTable"), e.getMessage());
  }
}
