package dev.kappabeam.transforms.views;

import static dev.kappabeam.transforms.TestRecords.activity;
import static dev.kappabeam.transforms.TestRecords.at;
import static dev.kappabeam.transforms.TestRecords.session;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.apache.beam.sdk.values.Row;
import org.junit.jupiter.api.Test;

class ViewTableTest {
  @Test
  void laterPaneOfAKeyReplacesEarlierOne() {
    Row early = activity(at(0, 0), "view", 2, 1, 0);
    Row onTime = activity(at(0, 0), "view", 5, 3, 0);
    ViewTable t = new ViewTable(Views.ACTIVITY_PER_MINUTE).applyAll(List.of(early, onTime));
    assertEquals(List.of(onTime), t.rows());
  }

  @Test
  void stalePaneArrivingLastDoesNotOverwrite() {
    Row early = activity(at(0, 0), "view", 2, 1, 0);
    Row onTime = activity(at(0, 0), "view", 5, 3, 0);
    ViewTable t = new ViewTable(Views.ACTIVITY_PER_MINUTE).applyAll(List.of(onTime, early, early));
    assertEquals(List.of(onTime), t.rows());
  }

  @Test
  void rowsAreSortedByKey() {
    Row b = activity(at(1, 0), "click", 1, 1, 0);
    Row a2 = activity(at(0, 0), "view", 1, 1, 0);
    Row a1 = activity(at(0, 0), "click", 1, 1, 0);
    assertEquals(
        List.of(a1, a2, b),
        new ViewTable(Views.ACTIVITY_PER_MINUTE).applyAll(List.of(b, a2, a1)).rows());
  }

  @Test
  void mergedSessionRemovesTheSessionsItReplaced() {
    Row first = session("u-1", at(0, 0), at(0, 0), 1, 0);
    Row second = session("u-1", at(40, 0), at(40, 0), 1, 0);
    Row other = session("u-2", at(10, 0), at(10, 0), 1, 0);
    Row merged = session("u-1", at(0, 0), at(40, 0), 3, 0);
    ViewTable t =
        new ViewTable(Views.USER_SESSIONS).applyAll(List.of(first, second, other, merged));
    assertEquals(List.of(merged, other), t.rows());
  }

  @Test
  void sessionRowsReachTheSameEndStateInAnyOrder() {
    // Panes of one user: a session growing, a second one, then a late event bridging both.
    List<Row> panes =
        List.of(
            session("u-1", at(0, 0), at(0, 0), 1, 0),
            session("u-1", at(0, 0), at(10, 0), 2, 1),
            session("u-1", at(50, 0), at(55, 0), 2, 0),
            session("u-1", at(0, 0), at(55, 0), 5, 1),
            session("u-1", at(120, 0), at(120, 0), 1, 0),
            session("u-2", at(0, 0), at(1, 0), 2, 0),
            session("u-2", at(0, 0), at(1, 0), 2, 0));
    List<Row> expected =
        List.of(
            session("u-1", at(0, 0), at(55, 0), 5, 1),
            session("u-1", at(120, 0), at(120, 0), 1, 0),
            session("u-2", at(0, 0), at(1, 0), 2, 0));
    Random random = new Random(1);
    for (int i = 0; i < 200; i++) {
      List<Row> shuffled = new ArrayList<>(panes);
      Collections.shuffle(shuffled, random);
      assertEquals(
          expected,
          new ViewTable(Views.USER_SESSIONS).applyAll(shuffled).rows(),
          shuffled::toString);
    }
  }

  @Test
  void supersedesIsStrict() {
    Row a = session("u-1", at(0, 0), at(10, 0), 2, 0);
    Row sameSpanMore = session("u-1", at(0, 0), at(10, 0), 3, 0);
    Row otherUser = session("u-2", at(0, 0), at(10, 0), 9, 0);
    assertTrue(Views.USER_SESSIONS.supersedes(sameSpanMore, a));
    assertFalse(Views.USER_SESSIONS.supersedes(a, sameSpanMore));
    assertFalse(Views.USER_SESSIONS.supersedes(a, a));
    assertFalse(Views.USER_SESSIONS.supersedes(otherUser, a));
  }
}
