package dev.kappabeam.generator;

import dev.kappabeam.transforms.ReferenceViews;
import dev.kappabeam.transforms.events.EventType;
import dev.kappabeam.transforms.events.SourceRecord;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.Views;
import java.util.*;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Duration;
import org.junit.jupiter.api.Test;

class ScratchDebugTest {
  static class PaneFn extends org.apache.beam.sdk.transforms.DoFn<Row, String> {
    @ProcessElement public void pe(@Element Row r, org.apache.beam.sdk.transforms.windowing.PaneInfo pane, OutputReceiver<String> o) {
      if (!pane.isFirst() || !pane.isLast() || pane.getTiming() != org.apache.beam.sdk.transforms.windowing.PaneInfo.Timing.ON_TIME) o.output(r.getValues() + " " + pane);
    }
  }
  @Test
  void debug() {
    List<GeneratedRecord> records = WorkloadGenerator.seeded(99).withCount(2000).withUsers(40).withEventsPerSecond(2)
            .withLateFraction(0.03).withTooLateFraction(0.01).generate();
    ViewParameters params = ViewParameters.defaults().withSessionGap(Duration.standardMinutes(2)).withExcludedTypes(Set.of(EventType.CART));
    Oracle.Result expected = Oracle.computeFromRecords(records, params);
    List<SourceRecord> source = new ArrayList<>();
    for (int i = 0; i < records.size(); i++) {
      GeneratedRecord r = records.get(i);
      source.add(new SourceRecord("events", 0, i, r.key(), r.value()));
    }
    Pipeline p = Pipeline.create(PipelineOptionsFactory.create());
    PCollectionTuple out = p.apply(Create.of(source).withCoder(SourceRecord.Coder.of())).apply(ReferenceViews.of(params));
    for (ViewDefinition view : Views.all()) {
      List<String> exp = new ArrayList<>();
      for (Row r : expected.rows(view)) exp.add(r.getValues().toString());
      PAssert.that(view.name(), out.get(ReferenceViews.rowsOf(view))).satisfies(rows -> {
        List<String> act = new ArrayList<>();
        for (Row r : rows) act.add(r.getValues().toString());
        Collections.sort(act);
        List<String> e = new ArrayList<>(exp); Collections.sort(e);
        List<String> onlyAct = new ArrayList<>(act); for (String s : e) onlyAct.remove(s);
        List<String> onlyExp = new ArrayList<>(e); for (String s : act) onlyExp.remove(s);
        if (false) throw new AssertionError(view.name() + " act=" + act.size() + " exp=" + e.size() + " onlyActual=" + onlyAct + " onlyExpected=" + onlyExp);
        return null;
      });
    }
    org.apache.beam.sdk.values.PCollection<String> panes = org.apache.beam.sdk.values.PCollectionList.of(out.get(ReferenceViews.rowsOf(Views.ACTIVITY_PER_MINUTE)).apply("a", org.apache.beam.sdk.transforms.ParDo.of(new PaneFn())).apply(org.apache.beam.sdk.transforms.windowing.Window.<String>into(new org.apache.beam.sdk.transforms.windowing.GlobalWindows()).triggering(org.apache.beam.sdk.transforms.windowing.DefaultTrigger.of()).discardingFiredPanes()))
      .and(out.get(ReferenceViews.rowsOf(Views.ITEM_REVENUE_HOURLY)).apply("b", org.apache.beam.sdk.transforms.ParDo.of(new PaneFn())).apply(org.apache.beam.sdk.transforms.windowing.Window.<String>into(new org.apache.beam.sdk.transforms.windowing.GlobalWindows()).triggering(org.apache.beam.sdk.transforms.windowing.DefaultTrigger.of()).discardingFiredPanes()))
      .and(out.get(ReferenceViews.rowsOf(Views.USER_SESSIONS)).apply("c", org.apache.beam.sdk.transforms.ParDo.of(new PaneFn())).apply(org.apache.beam.sdk.transforms.windowing.Window.<String>into(new org.apache.beam.sdk.transforms.windowing.GlobalWindows()).triggering(org.apache.beam.sdk.transforms.windowing.DefaultTrigger.of()).discardingFiredPanes())).apply(org.apache.beam.sdk.transforms.Flatten.pCollections());
    PAssert.that("panes", panes).satisfies(it -> { List<String> l = new ArrayList<>(); it.forEach(l::add); Collections.sort(l); throw new AssertionError("PANES " + l); });
    p.run().waitUntilFinish();
  }
}
