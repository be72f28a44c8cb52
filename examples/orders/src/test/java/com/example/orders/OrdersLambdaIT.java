package com.example.orders;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.orders.Orders.OrderEvent;
import dev.kappabeam.kappa.VersionRun;
import dev.kappabeam.lambda.Batch;
import dev.kappabeam.lambda.Speed;
import dev.kappabeam.serving.LambdaRegistry;
import dev.kappabeam.serving.ViewDiff;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.CounterNames;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.Views;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.values.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Lambda with this plug-in, on a real broker and serving store: a batch run of both order views up
 * to a cutoff (the end of the log then), more orders produced after it (with a producer's retry
 * across the cutoff), a speed run from the cutoff that rebases readers once caught up; the merged
 * read of each view, by the views' merge rules (sums; the funnel's sessions joined across the
 * cutoff), equals {@link OrdersOracle} of all orders. kappa-beam's {@link Batch}, {@link Speed} and
 * {@link LambdaRegistry}, DirectRunner.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
@ExtendWith(OrdersStack.Shared.class)
class OrdersLambdaIT {
  private static final List<ViewDefinition> VIEWS =
      List.of(RevenuePerCurrency.VIEW, CustomerFunnel.VIEW);

  /** 150 orders in event-time order; the first 55% of their events come before the cutoff. */
  private static final List<OrderEvent> EVENTS = Orders.generate(29, 150);

  private static final byte[] BROKEN = "{\"not\":\"avro\"}".getBytes(StandardCharsets.UTF_8);

  @Test
  void batchToACutoffThenSpeedFromItMergeToTheOracleOfAllOrders(OrdersStack stack)
      throws Exception {
    int split = EVENTS.size() * 55 / 100;
    List<OrderEvent> before = withRetries(EVENTS.subList(0, split));
    List<OrderEvent> after = new ArrayList<>();
    after.add(EVENTS.get(split - 1)); // a retry, after the cutoff, of an event before it
    after.addAll(withRetries(EVENTS.subList(split, EVENTS.size())));
    List<OrderEvent> all = new ArrayList<>(before);
    all.addAll(after);
    String topic = stack.newTopic("orders-lambda");
    Recorder out = new Recorder();

    // The batch layer: the cutoff is the end of the log now; history up to it, bounded.
    stack.produce(topic, before, BROKEN);
    Batch.Result batch =
        new Batch(stack.store(), stack.jobs(), out).run(new Batch.Request(VIEWS, topic, "now"));
    assertEquals(
        before.size() + 1,
        batch.offsets().values().stream().mapToLong(Long::longValue).sum(),
        "the cutoff is the end offsets at launch");
    assertCounts(out.finished.get(0), before, 0, "batch");

    // The speed layer: orders after the cutoff, streamed from it (drained once caught up), then
    // readers are rebased onto (batch, speed) in one step.
    stack.produce(topic, after, BROKEN);
    new Speed(stack.store(), stack.jobs(), out)
        .run(new Speed.Request(VIEWS, true, 0, Duration.ofSeconds(2)));
    assertCounts(out.finished.get(1), after, 1, "speed");
    assertEquals(
        0L, OrdersStack.counter(out.finished.get(1), CounterNames.DUPLICATES_MISSED_AT_CUTOFF));

    try (LambdaRegistry lambda = new LambdaRegistry(stack.store());
        ViewStore store = new ViewStore(stack.store())) {
      Map<ViewDefinition, List<Row>> expected =
          Map.of(
              RevenuePerCurrency.VIEW,
              OrdersOracle.revenue(all),
              CustomerFunnel.VIEW,
              OrdersOracle.funnel(all, OrdersStack.SESSION_GAP.getMillis()));
      for (ViewDefinition v : VIEWS) {
        LambdaRegistry.Live live = lambda.live(v.name()).orElseThrow();
        assertEquals(batch.version(), live.batchVersion(), v.name());
        List<Row> merged = lambda.read(store, v);
        ViewDiff diff = ViewDiff.compare(v, expected.get(v), merged);
        assertTrue(
            diff.isEmpty(),
            () ->
                v.name() + ": merged differs from the oracle:\n" + diff.format("oracle", "merged"));
        assertEquals(expected.get(v), merged, v.name() + ": the same rows, in key order");
        // The cutoff falls inside windows and sessions: some rows are merged from both layers.
        ViewDefinition partial = Views.lambdaPartial(v);
        int sides =
            store.readAll(partial, live.batchVersion()).size()
                + store.readAll(partial, live.speedVersion()).size();
        assertTrue(sides > merged.size(), v.name() + ": no key on both sides of the cutoff");
      }
    }
  }

  /** The events with a producer's retry of every 20th. */
  private static List<OrderEvent> withRetries(List<OrderEvent> events) {
    List<OrderEvent> out = new ArrayList<>();
    for (int i = 0; i < events.size(); i++) {
      out.add(events.get(i));
      if (i % 20 == 0) {
        out.add(events.get(i));
      }
    }
    return out;
  }

  /**
   * A run's counters: it read what was produced on its side of the cutoff (and one broken record),
   * counted each event once and the broken record as a dead letter; {@code copiesOfBefore} of its
   * events were copies of events the batch counted.
   */
  private static void assertCounts(
      Map<String, Long> c, List<OrderEvent> produced, int copiesOfBefore, String what) {
    long distinct = OrdersOracle.distinct(produced).size() - copiesOfBefore;
    assertEquals(produced.size() + 1L, OrdersStack.counter(c, CounterNames.READ), what + " " + c);
    assertEquals(1L, OrdersStack.counter(c, CounterNames.DEAD_LETTERED), what + " " + c);
    assertEquals(distinct, OrdersStack.counter(c, CounterNames.ACCEPTED), what + " " + c);
    assertEquals(
        produced.size() - distinct,
        OrdersStack.counter(c, CounterNames.DUPLICATES_REMOVED),
        what + " " + c);
    assertEquals(0L, OrdersStack.counter(c, CounterNames.LATE), what + " " + c);
  }

  /** What the runs told their user. */
  private static final class Recorder implements VersionRun.Listener {
    final List<Map<String, Long>> finished = new ArrayList<>();

    @Override
    public void info(String line) {
      System.out.println(java.time.LocalTime.now() + " " + line);
    }

    @Override
    public void finished(Map<String, Long> counters) {
      finished.add(counters);
    }
  }
}
