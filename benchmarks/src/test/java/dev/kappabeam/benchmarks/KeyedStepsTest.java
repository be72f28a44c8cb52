package dev.kappabeam.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Set;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.Test;

class KeyedStepsTest {

  /** Remembers the last value per key: a DoFn with state. */
  static final class LastFn extends DoFn<KV<String, Integer>, Integer> {
    @StateId("last")
    private final StateSpec<ValueState<Integer>> last = StateSpecs.value();

    @ProcessElement
    public void process(
        @Element KV<String, Integer> e,
        @StateId("last") ValueState<Integer> state,
        OutputReceiver<Integer> out) {
      state.write(e.getValue());
      out.output(e.getValue());
    }
  }

  @Test
  void findsGroupByKeyCombinePerKeyAndStatefulParDoButNotPlainSteps() {
    Pipeline p = Pipeline.create();
    PCollection<KV<String, Integer>> kvs =
        p.apply("Create", Create.of(KV.of("a", 1), KV.of("b", 2)))
            .apply(
                "Plain",
                MapElements.into(
                        TypeDescriptors.kvs(TypeDescriptors.strings(), TypeDescriptors.integers()))
                    .via((KV<String, Integer> kv) -> kv));
    kvs.apply("Group", GroupByKey.create());
    kvs.apply("CountPerKey", Count.perKey());
    kvs.apply("Remember", ParDo.of(new LastFn()));

    assertEquals(Set.of("Group", "CountPerKey", "Remember/ParMultiDo(Last)"), KeyedSteps.of(p));
  }
}
