package dev.kappabeam.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.generator.GeneratedRecord;
import dev.kappabeam.generator.Oracle;
import dev.kappabeam.serving.ViewDiff;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.Views;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.values.Row;
import org.junit.jupiter.api.Test;

class BaselineLoopTest {

  @Test
  void referenceWorkloadGivesTheOraclesRowsAndCounts() {
    List<GeneratedRecord> records = ReferenceWorkload.generator(20_000).generate();
    Oracle.Result oracle = Oracle.computeFromRecords(records, ViewParameters.defaults());
    BaselineLoop loop = new BaselineLoop(ViewParameters.defaults());
    records.forEach(r -> loop.accept(r.value()));

    assertEquals(oracle.read(), loop.read());
    assertEquals(oracle.parsed(), loop.parsed());
    assertEquals(oracle.duplicates(), loop.duplicates());
    assertEquals(oracle.accepted(), loop.accepted());
    assertTrue(loop.duplicates() > 0 && loop.deadLettered() > 0, "the workload has trouble in it");
    Map<ViewDefinition, List<Row>> rows = loop.rows();
    for (ViewDefinition v : Views.all()) {
      assertTrue(oracle.rows(v).size() > 10, v.name() + " is not trivial");
      ViewDiff d = ViewDiff.compare(v, oracle.rows(v), rows.get(v));
      assertTrue(d.isEmpty(), v.name() + ":\n" + d.format("oracle", "loop"));
    }
  }

  @Test
  void sessionsSplitAtExactlyTheGapLikeBeamSessions() {
    long gap = ViewParameters.defaults().sessionGap().getMillis();
    BaselineLoop loop = new BaselineLoop(ViewParameters.defaults());
    loop.accept(event("e1", 0));
    loop.accept(event("e2", gap - 1));
    loop.accept(event("e3", 2 * gap - 1)); // exactly one gap after e2: a new session
    loop.accept(event("e2", gap - 1)); // duplicate
    List<Row> sessions = loop.rows().get(Views.USER_SESSIONS);
    assertEquals(2, sessions.size());
    assertEquals(1, loop.duplicates());
  }

  private static byte[] event(String id, long millis) {
    return ("{\"event_id\":\""
            + id
            + "\",\"user_id\":\"u-1\",\"type\":\"view\",\"ts\":"
            + millis
            + "}")
        .getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }
}
