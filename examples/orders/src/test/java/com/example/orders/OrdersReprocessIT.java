package com.example.orders;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.example.orders.Orders.OrderEvent;
import dev.kappabeam.kappa.Reprocess;
import dev.kappabeam.kappa.Versions;
import dev.kappabeam.serving.RegisteredVersion;
import dev.kappabeam.serving.RegisteredVersion.Status;
import dev.kappabeam.serving.ViewDiff;
import dev.kappabeam.serving.ViewRegistry;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.views.ViewDefinition;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.values.Row;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Kappa with this plug-in, on a real broker and serving store: version v1 of {@code
 * revenue_per_currency_5m} is built from the order log by the shipped build (revenue when an order
 * is paid) and goes live; the next build changes the logic (revenue when an order ships, so
 * cancelled orders are left out), replays the log from the beginning into v2 while v1 keeps
 * serving, catches up, and the alias is switched to v2 in one transaction; v1, retired, is then
 * dropped. The live view equals {@link OrdersOracle}'s for each logic. kappa-beam's {@link
 * Reprocess} and {@link Versions}, DirectRunner.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
@ExtendWith(OrdersStack.Shared.class)
class OrdersReprocessIT {
  private static final ViewDefinition VIEW = RevenuePerCurrency.VIEW;

  /** 120 orders, and a producer's retry of every 25th event. */
  private static final List<OrderEvent> EVENTS = Orders.generate(13, 120);

  private static OrdersStack stack;
  private static String topic;
  private static List<OrderEvent> produced;

  @BeforeAll
  static void produce(OrdersStack shared) throws Exception {
    stack = shared;
    topic = stack.newTopic("orders");
    produced = new ArrayList<>();
    for (int i = 0; i < EVENTS.size(); i++) {
      produced.add(EVENTS.get(i));
      if (i % 25 == 0) {
        produced.add(EVENTS.get(i));
      }
    }
    stack.produce(topic, produced, "{\"not\":\"avro\"}".getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aLogicChangeIsReplayedIntoV2AndCutOverAtomicallyThenV1IsDropped() throws Exception {
    List<Row> atPayment = OrdersOracle.revenue(produced);
    List<Row> atShipment = OrdersOracle.revenueAtShipment(produced);
    assertNotEquals(atPayment, atShipment, "the two logics must give different views");

    try (ViewRegistry registry = new ViewRegistry(stack.store());
        ViewStore views = new ViewStore(stack.store())) {
      // v1: the shipped build (this project's OrderViews), from the start of the log; live once
      // caught up, as nothing was live before it.
      Recorder v1 = new Recorder(registry, views);
      new Reprocess(stack.store(), request(topic, "v1"), stack.jobs(), v1).run();
      assertEquals("v1", v1.cutOverTo);
      assertNull(v1.previous, "nothing was live before v1");
      assertEquals(Optional.of("v1"), registry.live(VIEW.name()));
      assertSameRows(atPayment, views.readLive(VIEW), "the live view (v1)");

      // v2: the next build (revenue at shipment), replayed from the beginning of the log into its
      // own table; the topic is the live version's.
      ClassLoader next =
          PluginBuild.withProviders("orders-views-next", "next-build/" + PluginBuild.SERVICES);
      Recorder v2 = new Recorder(registry, views);
      PluginBuild.with(
          next,
          () -> {
            new Reprocess(stack.store(), request(null, "v2"), stack.jobs(), v2).run();
            return null;
          });

      // While v2 was built, up to the tick that found it caught up, readers saw v1.
      assertFalse(v2.whileBuilding.isEmpty(), "no progress line while v2 was building");
      for (Snapshot s : v2.whileBuilding) {
        assertEquals(Optional.of("v1"), s.live());
        assertSameRows(atPayment, s.rows(), "the live view while v2 was building");
      }
      // Then the alias was switched to v2 in one transaction, retiring v1.
      assertEquals("v2", v2.cutOverTo);
      assertEquals("v1", v2.switchedFrom);
      assertEquals("v1", v2.previous.version());
      assertEquals(Optional.of("v2"), registry.live(VIEW.name()));
      assertSameRows(atShipment, views.readLive(VIEW), "the live view (v2)");
      RegisteredVersion r1 = registry.get(VIEW.name(), "v1").orElseThrow();
      RegisteredVersion r2 = registry.get(VIEW.name(), "v2").orElseThrow();
      assertEquals(Status.RETIRED, r1.status());
      assertEquals(Status.LIVE, r2.status());
      assertSameRows(atPayment, views.readAll(VIEW, "v1"), "the retired v1");
      // The registry tells the two logics apart by their code, not by parameters.
      assertEquals(r1.parameters(), r2.parameters());
      assertNotEquals(r1.codeVersion(), r2.codeVersion());
      assertNotEquals(r1.fingerprint(), r2.fingerprint());

      // The retired v1 is dropped with its table and consumer group; v2 keeps serving.
      Versions.Dropped dropped = new Versions(stack.store(), stack.kafka()).drop(VIEW, "v1");
      assertTrue(dropped.tableDropped());
      assertEquals("kappa-beam." + topic + ".v1", dropped.consumerGroup());
      assertTrue(dropped.groupDeleted());
      assertEquals(Status.DROPPED, registry.get(VIEW.name(), "v1").orElseThrow().status());
      assertFalse(views.tableExists(VIEW, "v1"));
      assertEquals(Optional.of("v2"), registry.live(VIEW.name()));
      assertSameRows(atShipment, views.readLive(VIEW), "the live view (v2) after the drop");
    }
  }

  /** From the start of the log; caught up at lag 0 held 3 s; cut over, then stop the job. */
  private static Reprocess.Request request(@Nullable String topic, String version) {
    return new Reprocess.Request(
        VIEW,
        version,
        topic,
        "earliest",
        0,
        Duration.ofSeconds(3),
        Duration.ofSeconds(15),
        true,
        true);
  }

  private static void assertSameRows(List<Row> expected, List<Row> actual, String what) {
    assertTrue(expected.size() > 5, "the oracle view should not be trivial: " + expected.size());
    ViewDiff diff = ViewDiff.compare(VIEW, expected, actual);
    assertTrue(
        diff.isEmpty(), () -> what + " differs from the oracle:\n" + diff.format("oracle", what));
    assertEquals(expected, actual, what + ": the same rows, in key order");
  }

  /** What a reader of the alias saw. */
  private record Snapshot(Optional<String> live, List<Row> rows) {}

  /**
   * What a reprocess told its user; on each of the new version's progress lines before the cutover,
   * also what a reader of the alias saw then.
   */
  private static final class Recorder implements Reprocess.Listener {
    private final ViewRegistry registry;
    private final ViewStore views;
    final List<Snapshot> whileBuilding = new ArrayList<>();
    @Nullable String cutOverTo;
    @Nullable String switchedFrom;
    @Nullable RegisteredVersion previous;
    private @Nullable String building;

    Recorder(ViewRegistry registry, ViewStore views) {
      this.registry = registry;
      this.views = views;
    }

    @Override
    public void info(String line) {
      System.out.println(java.time.LocalTime.now() + " " + line);
      if (line.startsWith("kb: reprocessing ")) {
        building = line.split(" ")[4]; // "kb: reprocessing <view> into <version> ..."
      } else if (building != null
          && cutOverTo == null
          && line.startsWith("kb: " + building + " ")
          && registry.live(VIEW.name()).isPresent()) {
        whileBuilding.add(new Snapshot(registry.live(VIEW.name()), views.readLive(VIEW)));
      }
    }

    @Override
    public void caughtUp(ViewDefinition view, String version) {
      throw new AssertionError("a cutover was asked for");
    }

    @Override
    public void cutOver(
        ViewDefinition view,
        String version,
        ViewRegistry.Switch sw,
        @Nullable RegisteredVersion previous) {
      cutOverTo = version;
      switchedFrom = sw.previous();
      this.previous = previous;
    }
  }
}
