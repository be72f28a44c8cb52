package dev.kappabeam.transforms.views;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import dev.kappabeam.transforms.events.Event;
import dev.kappabeam.transforms.events.EventCoder;
import dev.kappabeam.transforms.events.EventType;
import dev.kappabeam.transforms.time.ViewWindowing;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.transforms.windowing.PaneInfo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.TimestampedValue;
import org.joda.time.Duration;
import org.joda.time.Instant;
import org.junit.Rule;
import org.junit.Test;

/**
 * {@link PreAggregatedCombine} gives what {@code Combine.perKey} gives on the same stream: many
 * keys, several events per key and window in one bundle, out-of-order and late-within-lateness
 * events, events too late for their window, early panes, fixed and session windows (sessions merged
 * across bundles and by a late event). Compared as a sink would end up: the last pane per key and
 * window.
 */
public class PreAggregatedCombineTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();

  private static final Instant T0 = Instant.parse("2026-11-25T10:00:00Z");

  /** The ids of a key's events in a window, sorted: any difference in what was combined shows. */
  static final class IdsFn extends Combine.CombineFn<Event, TreeSet<String>, String> {
    @Override
    public TreeSet<String> createAccumulator() {
      return new TreeSet<>();
    }

    @Override
    public TreeSet<String> addInput(TreeSet<String> acc, Event e) {
      acc.add(e.eventId());
      return acc;
    }

    @Override
    public TreeSet<String> mergeAccumulators(Iterable<TreeSet<String>> accs) {
      TreeSet<String> out = new TreeSet<>();
      accs.forEach(out::addAll);
      return out;
    }

    @Override
    public String extractOutput(TreeSet<String> acc) {
      return String.join(",", acc);
    }
  }

  /** Tags each pane with its key, window and index: "tag|key|window|index|value". */
  static final class DescribeFn extends DoFn<KV<String, String>, String> {
    private final String tag;

    DescribeFn(String tag) {
      this.tag = tag;
    }

    @ProcessElement
    public void process(
        @Element KV<String, String> kv,
        BoundedWindow window,
        PaneInfo pane,
        OutputReceiver<String> out) {
      out.output(
          String.join(
              "|", tag, kv.getKey(), window.toString(), "" + pane.getIndex(), kv.getValue()));
    }
  }

  /** The stream: bundles of 40 events over 12 users, 5% later than the watermark by up to 3 min. */
  private static TestStream<KV<String, Event>> stream() {
    return keyedStream(11, 12, 30, 40, 180, 7);
  }

  /**
   * Bundles of {@code perBundle} events over {@code users} keys, the watermark 30 s further after
   * each, 5% of the events up to {@code maxLateSeconds} behind it; processing time moves 5 s after
   * every {@code processingEvery} bundles.
   */
  static TestStream<KV<String, Event>> keyedStream(
      long seed, int users, int bundles, int perBundle, int maxLateSeconds, int processingEvery) {
    Random random = new Random(seed);
    TestStream.Builder<KV<String, Event>> s =
        TestStream.create(KvCoder.of(StringUtf8Coder.of(), EventCoder.of()));
    Instant watermark = T0;
    int id = 0;
    for (int bundle = 0; bundle < bundles; bundle++) {
      List<TimestampedValue<KV<String, Event>>> events = new ArrayList<>();
      for (int i = 0; i < perBundle; i++) {
        Instant ts = watermark.plus(Duration.standardSeconds(random.nextInt(90)));
        if (random.nextInt(20) == 0) {
          ts = watermark.minus(Duration.standardSeconds(1 + random.nextInt(maxLateSeconds)));
        }
        String user = "u-" + random.nextInt(users);
        Event e = new Event("e-" + id++, user, EventType.VIEW, null, null, ts.getMillis());
        events.add(TimestampedValue.of(KV.of(user, e), ts));
      }
      s =
          s.addElements(
              events.get(0), events.subList(1, events.size()).toArray(new TimestampedValue[0]));
      watermark = watermark.plus(Duration.standardSeconds(30));
      s = s.advanceWatermarkTo(watermark);
      if (bundle % processingEvery == processingEvery - 1) {
        s = s.advanceProcessingTime(Duration.standardSeconds(5));
      }
    }
    return s.advanceWatermarkToInfinity();
  }

  private void assertSameFinalPanes(ViewWindowing<KV<String, Event>> windowing, boolean sessions) {
    PCollection<KV<String, Event>> windowed = p.apply(stream()).apply("Window", windowing);
    PCollection<String> plain =
        windowed
            .apply("Plain", Combine.perKey(new IdsFn()))
            .apply("DescribePlain", ParDo.of(new DescribeFn("plain")));
    PCollection<String> pre =
        windowed
            .apply("Pre", PreAggregatedCombine.of(new IdsFn(), sessions))
            .apply("DescribePre", ParDo.of(new DescribeFn("pre")));
    PAssert.that(PCollectionList.of(plain).and(pre).apply(Flatten.pCollections()))
        .satisfies(sameLastPanes("plain", "pre"));
    p.run().waitUntilFinish();
  }

  /**
   * Checks panes described by {@link DescribeFn}: for every key and window, the pane with the
   * highest index of {@code tag} holds what the last pane of {@code expectedTag} holds (as a sink
   * applying every pane would end up), over more than 12 key-windows.
   */
  static SerializableFunction<Iterable<String>, Void> sameLastPanes(
      String expectedTag, String tag) {
    return panes -> {
      Map<String, Map<String, String>> last = new HashMap<>();
      Map<String, Long> index = new HashMap<>();
      for (String pane : panes) {
        String[] f = pane.split("\\|", 5);
        String keyWindow = f[1] + "|" + f[2];
        String at = f[0] + "|" + keyWindow;
        long i = Long.parseLong(f[3]);
        if (i >= index.getOrDefault(at, -1L)) {
          index.put(at, i);
          last.computeIfAbsent(f[0], t -> new TreeMap<>()).put(keyWindow, f[4]);
        }
      }
      Map<String, String> expected = last.get(expectedTag);
      assertTrue("non-trivial: " + expected, expected.size() > 12);
      assertEquals(expected, last.get(tag));
      return null;
    };
  }

  @Test
  public void fixedWindowsGiveTheSameFinalPanesAsCombinePerKey() {
    assertSameFinalPanes(
        ViewWindowing.<KV<String, Event>>fixed(Duration.standardMinutes(1))
            .withAllowedLateness(Duration.standardMinutes(2)),
        false);
  }

  @Test
  public void fixedWindowsWithEarlyPanesGiveTheSameFinalPanes() {
    assertSameFinalPanes(
        ViewWindowing.<KV<String, Event>>fixed(Duration.standardMinutes(1))
            .withAllowedLateness(Duration.standardMinutes(2))
            .withEarlyFirings(Duration.standardSeconds(1)),
        false);
  }

  @Test
  public void sessionWindowsMergedAcrossBundlesAndByLateEventsGiveTheSameFinalPanes() {
    assertSameFinalPanes(
        ViewWindowing.<KV<String, Event>>sessions(Duration.standardSeconds(10))
            .withAllowedLateness(Duration.standardMinutes(2)),
        true);
  }
}
