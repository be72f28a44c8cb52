package dev.kappabeam.transforms.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.beam.sdk.values.KV;
import org.joda.time.Instant;
import org.junit.jupiter.api.Test;

/** The bounded de-duplication's parts on their own: the bucket buffer and keeping one copy. */
class BoundedDedupTest {

  @Test
  void bufferDrainsEveryElementOnceInItsBucketWithTheEarliestTime() {
    BoundedDedup.Buffer<Event> buffer = new BoundedDedup.Buffer<>(ReferenceFormat.of(), false);
    List<KV<Integer, BoundedDedup.Bucketed<Event>>> lists = new ArrayList<>();
    Map<Integer, Instant> times = new HashMap<>();
    BoundedDedup.Emitter<Event> out =
        (list, ts) -> {
          lists.add(list);
          times.merge(list.getKey(), ts, (a, b) -> a.isBefore(b) ? a : b);
        };
    int n = BoundedDedup.MAX_HELD * 2 + 123;
    int drains = 0;
    for (int i = 0; i < n; i++) {
      boolean full =
          i % 50 == 0
              ? buffer.add(deadLetter(i), 5_000L + i)
              : buffer.add(event("e-" + i, 10_000L + i), 10_000L + i);
      if (full) {
        buffer.drain(out);
        drains++;
      }
    }
    buffer.drain(out);
    assertEquals(2, drains, "drained early each time MAX_HELD elements were held");

    Set<String> ids = new HashSet<>();
    Set<Long> deadOffsets = new HashSet<>();
    for (KV<Integer, BoundedDedup.Bucketed<Event>> list : lists) {
      assertFalse(list.getValue().primer);
      for (Event e : list.getValue().events) {
        assertTrue(ids.add(e.eventId()), "once: " + e);
        assertEquals(Math.floorMod(e.eventId().hashCode(), BoundedDedup.BUCKETS), list.getKey());
      }
      for (DeadLetter d : list.getValue().deadLetters) {
        assertTrue(deadOffsets.add(d.record().offset()), "once: " + d);
      }
    }
    assertEquals(n - (n + 49) / 50, ids.size());
    assertEquals((n + 49) / 50, deadOffsets.size());
    // The first elements were the earliest: bucket of e-1 holds the minimum time it ever saw.
    int bucketOfFirst = Math.floorMod("e-1".hashCode(), BoundedDedup.BUCKETS);
    assertTrue(!times.get(bucketOfFirst).isAfter(new Instant(10_001L)));
  }

  @Test
  void keepOneCopyKeepsTheEarliestCopyRemovesPrimedIdsAndPassesDeadLetters() {
    Event early = event("e-1", 1_000L);
    Event late = event("e-1", 2_000L);
    Event primed = event("e-2", 3_000L);
    Event alone = event("e-3", 4_000L);
    DeadLetter dead = deadLetter(7);
    List<BoundedDedup.Bucketed<Event>> lists =
        List.of(
            new BoundedDedup.Bucketed<>(false, List.of(late, primed), List.of(dead)),
            new BoundedDedup.Bucketed<>(false, List.of(early, alone), List.of()),
            new BoundedDedup.Bucketed<>(true, List.of(primed), List.of()));
    List<Event> kept = new ArrayList<>();
    List<DeadLetter> dropped = new ArrayList<>();
    BoundedDedup.keepOneCopy(
        ReferenceFormat.of(),
        lists,
        new BoundedDedup.Kept<Event>() {
          @Override
          public void event(Event e) {
            kept.add(e);
          }

          @Override
          public void deadLetter(DeadLetter d) {
            dropped.add(d);
          }
        });
    assertEquals(Set.of(early, alone), new HashSet<>(kept));
    assertEquals(2, kept.size());
    assertEquals(List.of(dead), dropped);
  }

  private static Event event(String id, long ts) {
    return new Event(id, "u-" + id, EventType.VIEW, null, null, ts);
  }

  private static DeadLetter deadLetter(long offset) {
    return new DeadLetter(
        new SourceRecord("events", 0, offset, null, "{".getBytes(StandardCharsets.UTF_8)),
        ParseError.MALFORMED_JSON,
        "unexpected end");
  }
}
