package dev.kappabeam.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class SubtaskRecordCountsTest {
  private static final String IN = SubtaskRecordCounts.IN;
  private static final String OUT = SubtaskRecordCounts.OUT;

  @Test
  void keyedStepsComeFirstWithEachSubtasksShare() {
    SubtaskRecordCounts counts = new SubtaskRecordCounts();
    String dedup = "ReferenceViews/DeduplicateEvents/KeepFirstCopy/ParMultiDo(FirstCopy)";
    counts.track("op1", dedup, 0, IN, () -> 750);
    counts.track("op1", dedup, 1, IN, () -> 250);
    counts.track("op1", dedup, 0, OUT, () -> 700);
    counts.track("op1", dedup, 1, OUT, () -> 240);
    counts.track("op2", "ReferenceViews/ParseEvents/ParseAndValidate", 0, IN, () -> 600);
    counts.track("op2", "ReferenceViews/ParseEvents/ParseAndValidate", 1, IN, () -> 400);

    assertEquals(
        List.of(
            "keyed steps (GroupByKey, Combine.perKey, ParDo with state or timers):",
            "  ReferenceViews/DeduplicateEvents/KeepFirstCopy  in 1,000:  subtask 0: 750 (75.0%)"
                + "  subtask 1: 250 (25.0%)  | out 940",
            "other operators:",
            "  ReferenceViews/ParseEvents/ParseAndValidate     in 1,000:  subtask 0: 600 (60.0%)"
                + "  subtask 1: 400 (40.0%)  | out 0",
            "all keyed steps together: in 1,000:  subtask 0: 750 (75.0%)  subtask 1: 250 (25.0%)"),
        counts.format(Set.of("ReferenceViews/DeduplicateEvents/KeepFirstCopy")));
  }

  @Test
  void aCutNameOfAKeyedStepIsShownInFullAndTheTotalWeighsStepsByRecords() {
    SubtaskRecordCounts counts = new SubtaskRecordCounts();
    String cut = "GroupReduce (GroupReduce at ReferenceViews/ActivityPerMinute/CountActivity/Combi";
    counts.track("op1", cut, 0, IN, () -> 500);
    counts.track("op1", cut, 1, IN, () -> 500);
    // A single-key clock: one subtask takes all of its few records.
    counts.track("op2", "Split/Clock/ParMultiDo(Clock)", 0, IN, () -> 0);
    counts.track("op2", "Split/Clock/ParMultiDo(Clock)", 1, IN, () -> 10);

    List<String> lines =
        counts.format(
            Set.of("ReferenceViews/ActivityPerMinute/CountActivity/Combine", "Split/Clock"));
    assertEquals(
        "  ReferenceViews/ActivityPerMinute/CountActivity/Combine  in 1,000:"
            + "  subtask 0: 500 (50.0%)  subtask 1: 500 (50.0%)  | out 0",
        lines.get(1));
    assertEquals(
        "  Split/Clock                                             in 10:"
            + "  subtask 0: 0 (0.0%)  subtask 1: 10 (100.0%)  | out 0",
        lines.get(2));
    assertEquals(
        "all keyed steps together: in 1,010:  subtask 0: 500 (49.5%)  subtask 1: 510 (50.5%)",
        lines.get(4));
  }

  @Test
  void aSourceThatReceivesNothingShowsWhatEachSubtaskSent() {
    SubtaskRecordCounts counts = new SubtaskRecordCounts();
    counts.track("src", "Source: Impulse", 0, IN, () -> 0);
    counts.track("src", "Source: Impulse", 0, OUT, () -> 1);
    counts.track("src", "Source: Impulse", 1, OUT, () -> 0);

    assertEquals(
        "  Source: Impulse  out 1:  subtask 0: 1 (100.0%)  subtask 1: 0 (0.0%)",
        counts.format(Set.of()).get(3));
  }

  @Test
  void aRemovedCounterKeepsItsLastValue() {
    // Flink removes a finished task's metrics before the child prints the table.
    SubtaskRecordCounts counts = new SubtaskRecordCounts();
    AtomicLong live = new AtomicLong(10);
    counts.track("op", "Step", 0, IN, live::get);
    live.set(42);
    counts.freeze("op", "Step", 0, IN);
    live.set(0);

    assertEquals("  Step  in 42:  subtask 0: 42 (100.0%)  | out 0", counts.format(Set.of()).get(3));
  }

  @Test
  void chainedOperatorsSharingAnIdStayApart() {
    // Flink's DataSet API gives every operator chained into one task the task's operator id.
    SubtaskRecordCounts counts = new SubtaskRecordCounts();
    counts.track("vertex", "FlatMap (FlatMap at A/Parse)", 0, IN, () -> 1);
    counts.track("vertex", "FlatMap (FlatMap at A/Filter)", 0, IN, () -> 2);

    List<String> lines = counts.format(Set.of());
    assertTrue(lines.get(3).startsWith("  A/Filter  in 2:"), lines.get(3));
    assertTrue(lines.get(4).startsWith("  A/Parse   in 1:"), lines.get(4));
  }

  @Test
  void shortNameIsTheBeamStep() {
    assertEquals(
        "ReferenceViews/ActivityPerMinute/Select",
        SubtaskRecordCounts.shortName(
            "ReferenceViews/ActivityPerMinute/Select/ParDo(Anonymous)/ParMultiDo(Anonymous)"));
    // Flink cut the name inside Beam's primitive.
    assertEquals(
        "ReferenceViews/UserSessions/SummarizeSessions/PreAggregate",
        SubtaskRecordCounts.shortName(
            "ReferenceViews/UserSessions/SummarizeSessions/PreAggregate/ParMultiDo(PreAggrega"));
    assertEquals(
        "ReferenceViews/DeduplicateEvents/GroupBuckets",
        SubtaskRecordCounts.shortName(
            "GroupReduce (GroupReduce at ReferenceViews/DeduplicateEvents/GroupBuckets)"));
    assertEquals(
        "WriteLate/WriteKafka.out0",
        SubtaskRecordCounts.shortName(
            "FlatMap (FlatMap at WriteLate/WriteKafka/ParMultiDo(KafkaWriter).out0)"));
  }

  @Test
  void aNameFlinkCutStillMatchesItsStep() {
    String cut = "GroupReduce (GroupReduce at ReferenceViews/ActivityPerMinute/CountActivity/Combi";
    assertEquals(80, cut.length());
    assertTrue(
        SubtaskRecordCounts.isStep(cut, "ReferenceViews/ActivityPerMinute/CountActivity/Combine"));
    assertTrue(SubtaskRecordCounts.isStep("A/Combine/GroupByKey", "A/Combine"));
    assertFalse(SubtaskRecordCounts.isStep("A/Comb", "A/Combine"), "a whole name is not a prefix");
    assertFalse(SubtaskRecordCounts.isStep("A/CombineMore", "A/Combine"));
    // A stateful ParDo's step as the pipeline names it, against Flink's operator name.
    assertTrue(
        SubtaskRecordCounts.isStep("A/Keep/ParMultiDo(KeepFn)", "A/Keep/ParMultiDo(KeepFn)"));
    assertTrue(SubtaskRecordCounts.isStep("A/Keep/ParMultiDo(Ke", "A/Keep/ParMultiDo(KeepFn)"));
  }
}
