package dev.kappabeam.cli;

import static dev.kappabeam.cli.EndToEndSupport.assertRows;
import static dev.kappabeam.cli.EndToEndSupport.kbOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.devstack.LocalStack;
import dev.kappabeam.generator.Oracle;
import dev.kappabeam.serving.RegisteredVersion;
import dev.kappabeam.serving.RegisteredVersion.Status;
import dev.kappabeam.serving.StoreConfig;
import dev.kappabeam.serving.ViewRegistry;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.CounterNames;
import dev.kappabeam.transforms.events.EventType;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.Views;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.beam.sdk.values.Row;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code kb demo} (what {@code scripts/demo} runs) end to end on a real local stack and
 * DirectRunner, at its default volume: the streaming and historical runs agree with each other and
 * with the oracle and their counters add up; the Kappa part leaves v2 (without 'view' events) live
 * and equal to the oracle with that logic, v1 dropped, and a non-empty v1/v2 difference printed. A
 * second, smaller demo on the same stack creates new versions and takes the alias over.
 */
// In CI with the matrix (scripts/test-matrix): a minute and a half of the default suite, and the
// flows it runs are each tested in the default suite on their own.
@Tag("matrix")
@Timeout(value = 12, unit = TimeUnit.MINUTES)
class DemoIT {
  private static final Pattern TOPIC = Pattern.compile("== 1/10 create topic (demo-\\d+) ");
  private static final Pattern CATCH_UP =
      Pattern.compile(
          "catch-up: (v2_\\d+) replayed ([\\d,]+) records in (\\d+) s \\(([\\d,]+) records/s\\)");
  private static final Pattern DONE = Pattern.compile("kb demo: done in (.+)\\. Next:");

  private static LocalStack stack;
  private static KafkaTestClient kafka;
  private static ViewStore store;
  private static ViewRegistry registry;

  @BeforeAll
  static void startStack() {
    Path dataDir = Path.of("target", "it-stacks", "DemoIT-" + System.currentTimeMillis());
    stack = LocalStack.start(LocalStack.Config.of(dataDir).withFreePorts());
    kafka = new KafkaTestClient(stack.bootstrapServers());
    StoreConfig config = StoreConfig.of(stack.jdbcUrl(), stack.jdbcUser(), stack.jdbcPassword());
    store = new ViewStore(config);
    registry = new ViewRegistry(config);
  }

  @AfterAll
  static void stopStack() {
    try {
      if (registry != null) {
        registry.close();
      }
      if (store != null) {
        store.close();
      }
      if (kafka != null) {
        kafka.close();
      }
    } finally {
      if (stack != null) {
        stack.close();
      }
    }
  }

  @Test
  void demoAgreesAcrossModesThenChangesTheLogicTheKappaWayAndCanRunAgain() throws Exception {
    ViewDefinition view = DemoCommand.KAPPA_VIEW;
    InProcessKb.Result demo = kbOk(stack, "demo");
    String out = demo.out();

    String topic = group(TOPIC, out, 1, demo);
    String id = topic.substring("demo-".length());
    String v1 = "v1_" + id;
    String v2 = "v2_" + id;
    String batch = "batch_" + id;

    // Part 1: both runs read the whole topic and their counters add up.
    List<byte[]> values = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> r : kafka.readAll(topic)) {
      values.add(r.value());
    }
    assertEquals(3000, values.size(), "the default volume");
    Oracle.Result all = Oracle.compute(values, ViewParameters.defaults());
    List<Map<String, Long>> runs = countersLines(out);
    assertEquals(2, runs.size(), "a counters line per run (streaming, historical)\n" + out);
    for (Map<String, Long> c : runs) {
      assertEquals(all.read(), c.get(CounterNames.READ), "read, " + c);
      assertEquals(
          c.get(CounterNames.READ),
          c.get(CounterNames.ACCEPTED)
              + c.get(CounterNames.DEAD_LETTERED)
              + c.get(CounterNames.DUPLICATES_REMOVED)
              + c.get(CounterNames.LATE),
          "read = accepted + dead_lettered + duplicates_removed + late, " + c);
      assertEquals(all.accepted(), c.get(CounterNames.ACCEPTED), "accepted, " + c);
    }
    for (ViewDefinition v : Views.all()) {
      assertRows(v, all.rows(v), "oracle", store.readAll(v, batch), batch);
    }
    assertTrue(out.contains("gave identical views"), out);

    // Part 2: v2 is live and is the oracle without 'view' events; v1 is dropped without a trace.
    assertEquals(v2, registry.live(view.name()).orElse("-"), "the live version at the end");
    assertEquals(Status.LIVE, registry.get(view.name(), v2).orElseThrow().status());
    RegisteredVersion dropped = registry.get(view.name(), v1).orElseThrow();
    assertEquals(Status.DROPPED, dropped.status());
    assertFalse(store.tableExists(view, v1), "v1's table is dropped");
    // v1's job built all three views with one consumer group: dropping one view's v1 keeps the
    // group for the other two (their versions would lose their offsets otherwise).
    boolean sharedByOtherViews =
        Views.all().stream()
            .filter(o -> !o.name().equals(view.name()))
            .anyMatch(
                o ->
                    registry
                        .get(o.name(), v1)
                        .map(r -> r.status() != Status.DROPPED)
                        .orElse(false));
    assertTrue(sharedByOtherViews, "the demo's v1 job built every view");
    assertTrue(
        kafka.admin().listConsumerGroups().all().get(30, TimeUnit.SECONDS).stream()
            .map(ConsumerGroupListing::groupId)
            .anyMatch(dropped.consumerGroup()::equals),
        "v1's consumer group stays while other views' v1 use it");
    Oracle.Result withoutViews =
        Oracle.compute(
            values, ViewParameters.defaults().withExcludedTypes(EnumSet.of(EventType.VIEW)));
    List<Row> v2Rows = store.readAll(view, v2);
    assertRows(view, withoutViews.rows(view), "oracle without 'view' events", v2Rows, v2);
    assertEquals(v2Rows, store.readLive(view), "readers of the alias see v2");
    long viewEvents = 0;
    for (Row r : all.rows(view)) {
      if ("view".equals(r.getString("type"))) {
        viewEvents += r.getInt64("events");
      }
    }
    assertTrue(viewEvents > 0, "the workload has 'view' events");
    assertEquals(
        all.accepted() - viewEvents,
        sumEvents(v2Rows),
        "v2 counts every accepted event except the 'view' events");
    assertNotEquals(
        registry.get(view.name(), v2).orElseThrow().fingerprint(),
        dropped.fingerprint(),
        "other logic, other fingerprint");

    // The printed difference: one summary line, then the 'view' rows that only v1 had.
    String summary = view.name() + ": " + v1 + " vs " + v2 + ": ";
    int at = out.indexOf(summary);
    assertTrue(at >= 0, "the verify difference is printed\n" + out);
    String diffText = out.substring(at, out.indexOf("== 9/10", at));
    long onlyInV1 = all.rows(view).stream().filter(r -> "view".equals(r.getString("type"))).count();
    assertTrue(
        diffText.startsWith(summary + onlyInV1 + " only in " + v1 + ", 0 only in " + v2), diffText);
    assertTrue(diffText.contains("only in " + v1 + ": "), diffText);
    assertTrue(diffText.contains("type=\"view\""), diffText);
    assertTrue(diffText.lines().count() <= 12, "a few lines, not all of them\n" + diffText);

    // The catch-up is measured and printed.
    Matcher m = CATCH_UP.matcher(out);
    assertTrue(m.find(), "catch-up line\n" + out);
    assertEquals(v2, m.group(1));
    assertEquals(values.size(), Long.parseLong(m.group(2).replace(",", "")));
    assertTrue(Long.parseLong(m.group(4).replace(",", "")) > 0, m.group());
    System.out.printf(
        "DemoIT: demo (%d records) took %d s in process; %s; kb demo says: %s%n",
        values.size(), demo.elapsed().toSeconds(), m.group(), group(DONE, out, 1, demo));

    // Rollback and forward happened, and each showed what the alias served.
    assertTrue(out.contains("rolled back: " + view.name() + " now reads " + v1), out);
    assertTrue(out.contains("cut over: " + view.name() + " now reads " + v2), out);
    assertTrue(out.contains("dropped " + v1 + " of " + view.name()), out);
    assertTrue(out.contains("SELECT * FROM " + view.name() + " -> "), out);

    // Run again on the same stack (smaller): new versions, which take the alias over.
    Thread.sleep(1100); // the versions are named after the second the demo starts
    InProcessKb.Result again = kbOk(stack, "demo", "--count", "400");
    String id2 = group(TOPIC, again.out(), 1, again).substring("demo-".length());
    assertNotEquals(id, id2);
    assertEquals("v2_" + id2, registry.live(view.name()).orElse("-"), again.describe());
    assertEquals(Status.RETIRED, registry.get(view.name(), v2).orElseThrow().status());
    assertEquals(v2Rows, store.readAll(view, v2), "the first run's v2 is kept for rollback");
    assertTrue(
        demo.elapsed().compareTo(Duration.ofMinutes(6)) < 0,
        "the default demo should take about 3 minutes, took " + demo.elapsed().toSeconds() + " s");
  }

  private static long sumEvents(List<Row> rows) {
    long n = 0;
    for (Row r : rows) {
      n += r.getInt64("events");
    }
    return n;
  }

  private static String group(Pattern p, String text, int group, InProcessKb.Result r) {
    Matcher m = p.matcher(text);
    assertTrue(m.find(), "no match for " + p + "\n" + r.describe());
    return m.group(group);
  }

  /** Every {@code counters: a=1 b=2} line of the output. */
  private static List<Map<String, Long>> countersLines(String out) {
    List<Map<String, Long>> all = new ArrayList<>();
    for (String line : out.split("\\R")) {
      if (line.startsWith("counters:")) {
        Map<String, Long> c = new LinkedHashMap<>();
        for (String token : line.substring("counters:".length()).trim().split("\\s+")) {
          String[] kv = token.split("=", 2);
          c.put(kv[0], Long.parseLong(kv[1]));
        }
        all.add(c);
      }
    }
    return all;
  }
}
