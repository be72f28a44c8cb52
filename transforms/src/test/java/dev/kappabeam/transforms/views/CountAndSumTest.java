package dev.kappabeam.transforms.views;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.apache.beam.sdk.values.KV;
import org.junit.jupiter.api.Test;

/** The count-and-sum building block: counts every event, sums amounts, saturates. */
class CountAndSumTest {
  @Test
  void countsEventsSumsAmountsAndMergesPartials() {
    CountAndSum<Long> fn = CountAndSum.of(x -> x);
    KV<Long, Long> a = fn.addInput(fn.addInput(fn.createAccumulator(), 5L), null);
    KV<Long, Long> b = fn.addInput(fn.createAccumulator(), 7L);
    assertEquals(KV.of(3L, 12L), fn.extractOutput(fn.mergeAccumulators(List.of(a, b))));
  }

  @Test
  void aSumThatWouldOverflowSaturates() {
    CountAndSum<Long> fn = CountAndSum.of(x -> x);
    KV<Long, Long> big = fn.addInput(fn.createAccumulator(), Long.MAX_VALUE - 1);
    assertEquals(KV.of(2L, Long.MAX_VALUE), fn.addInput(big, 10L));
    assertEquals(KV.of(2L, Long.MAX_VALUE), fn.mergeAccumulators(List.of(big, KV.of(1L, 5L))));
  }
}
