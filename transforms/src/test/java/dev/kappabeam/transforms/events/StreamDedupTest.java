package dev.kappabeam.transforms.events;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.util.CoderUtils;
import org.junit.Test;

/** {@link StreamDedup.SweepIndex}: a bucket's ids per sweep slot, newest slot first. */
public class StreamDedupTest {

  /** due → ids (newest first), newest slot first. */
  private static Map<Long, List<String>> slots(StreamDedup.SweepIndex index) {
    Map<Long, List<String>> out = new LinkedHashMap<>();
    for (StreamDedup.SweepIndex s = index; s != null; s = s.older) {
      List<String> ids = new ArrayList<>();
      for (StreamDedup.IdChain c = s.ids; c != null; c = c.next) {
        ids.add(c.id);
      }
      out.put(s.due, ids);
    }
    return out;
  }

  @Test
  public void idsJoinTheirSlotInOrderWhateverOrderTheyCome() {
    StreamDedup.SweepIndex index = null;
    index = StreamDedup.SweepIndex.with(index, 20, "a");
    index = StreamDedup.SweepIndex.with(index, 30, "b");
    index = StreamDedup.SweepIndex.with(index, 30, "c");
    index = StreamDedup.SweepIndex.with(index, 10, "d"); // older than every slot
    index = StreamDedup.SweepIndex.with(index, 20, "e"); // out of order, existing slot
    index = StreamDedup.SweepIndex.with(index, 25, "f"); // out of order, new slot in between

    assertEquals(
        Map.of(
            30L, List.of("c", "b"), 25L, List.of("f"), 20L, List.of("e", "a"), 10L, List.of("d")),
        slots(index));
    assertEquals(List.of(30L, 25L, 20L, 10L), new ArrayList<>(slots(index).keySet()));
    assertEquals(10, index.earliest());
  }

  @Test
  public void aSweepKeepsOnlyTheSlotsNotYetDue() {
    StreamDedup.SweepIndex index = null;
    for (long due = 10; due <= 50; due += 10) {
      index = StreamDedup.SweepIndex.with(index, due, "id-" + due);
    }
    StreamDedup.SweepIndex kept = StreamDedup.SweepIndex.keptAfter(index, 30);
    assertEquals(List.of(50L, 40L), new ArrayList<>(slots(kept).keySet()));
    assertEquals(40, kept.earliest());
    assertEquals(index, StreamDedup.SweepIndex.keptAfter(index, 9)); // nothing due: unchanged
    assertNull(StreamDedup.SweepIndex.keptAfter(index, 50));
  }

  @Test
  public void manySlotsNeedNoDeepRecursionAndSurviveTheCoder() throws Exception {
    // A replay whose watermark lags holds a slot per sixteenth of the horizon of all it has read.
    StreamDedup.SweepIndex index = null;
    int n = 200_000;
    for (long due = 1; due <= n; due++) {
      index = StreamDedup.SweepIndex.with(index, due, "id-" + due);
    }
    index = StreamDedup.SweepIndex.with(index, 0, "oldest");
    assertEquals(0, index.earliest());
    StreamDedup.SweepIndex kept = StreamDedup.SweepIndex.keptAfter(index, n - 2);
    assertEquals(List.of((long) n, n - 1L), new ArrayList<>(slots(kept).keySet()));

    byte[] bytes = CoderUtils.encodeToByteArray(StreamDedup.SweepIndex.CODER, index);
    StreamDedup.SweepIndex decoded =
        CoderUtils.decodeFromByteArray(StreamDedup.SweepIndex.CODER, bytes);
    assertEquals(slots(index), slots(decoded));
    assertEquals(0, decoded.earliest());
  }
}
