package dev.kappabeam.benchmarks;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * How many records each subtask of each Flink operator received in one run, from Flink's own {@code
 * numRecordsIn} / {@code numRecordsOut} counters (fed by {@link SubtaskCountsReporter}), and the
 * table {@code scripts/bench --subtask-counts} prints: one line per operator, named by its Beam
 * step, with each subtask's count and its share of the operator's total; the keyed (stateful) steps
 * first, then what all keyed steps together received per subtask.
 *
 * <pre>
 * keyed steps (GroupByKey, Combine.perKey, ParDo with state or timers):
 *   ReferenceViews/DeduplicateEvents/KeepFirstCopy  in 98,004:  subtask 0: 49,120 (50.1%)  ...
 * other operators:
 *   ...
 * all keyed steps together: in 131,870:  subtask 0: 65,810 (49.9%)  subtask 1: ...
 * </pre>
 *
 * Thread-safe: Flink's task threads add and remove counters while the run goes on.
 */
final class SubtaskRecordCounts {
  static final String IN = "numRecordsIn";
  static final String OUT = "numRecordsOut";

  /** Flink cuts operator names in metrics to this many characters. */
  private static final int FLINK_NAME_LIMIT = 80;

  /** Flink's DataSet operator names: {@code GroupReduce (GroupReduce at STEP)}. */
  private static final Pattern DATASET_NAME = Pattern.compile("^[A-Za-z]+ \\([A-Za-z]+ at (.*)$");

  /** Beam's primitive under a step ({@code STEP/ParMultiDo(Fn)}), possibly cut by Flink. */
  private static final List<String> BEAM_PRIMITIVES = List.of("ParMultiDo(", "ParDo(");

  /** One subtask's counter of one operator; chained DataSet operators share an id, not a name. */
  private record Key(String operatorId, String operatorName, int subtask, String metric) {}

  private final Map<Key, LongSupplier> counters = new ConcurrentHashMap<>();

  /** Starts following a live counter of one subtask of an operator. */
  void track(
      String operatorId, String operatorName, int subtask, String metric, LongSupplier count) {
    counters.put(new Key(operatorId, operatorName, subtask, metric), count);
  }

  /**
   * Keeps the counter's last value: Flink removes a task's metrics when the task ends, and the
   * table is printed after the job.
   */
  void freeze(String operatorId, String operatorName, int subtask, String metric) {
    counters.computeIfPresent(
        new Key(operatorId, operatorName, subtask, metric),
        (k, c) -> {
          long last = c.getAsLong();
          return () -> last;
        });
  }

  boolean isEmpty() {
    return counters.isEmpty();
  }

  /**
   * The table: first the operators of {@code keyedSteps} (Beam step names, see {@link #isStep}),
   * then every other operator, each in name order with the records each subtask received and its
   * share of the operator's total (for an operator that received none, a source, what each subtask
   * sent); then what all keyed steps together received per subtask (a keyed step that sees few
   * records, such as a single-key clock, hardly moves it).
   */
  List<String> format(Set<String> keyedSteps) {
    // operator (short name, then Flink's id and name) -> metric -> subtask -> count
    Map<List<String>, Map<String, TreeMap<Integer, Long>>> byOperator =
        new TreeMap<>((a, b) -> String.join("\u0000", a).compareTo(String.join("\u0000", b)));
    counters.forEach(
        (k, c) ->
            byOperator
                .computeIfAbsent(
                    List.of(shortName(k.operatorName()), k.operatorId(), k.operatorName()),
                    x -> new TreeMap<>())
                .computeIfAbsent(k.metric(), x -> new TreeMap<>())
                .put(k.subtask(), c.getAsLong()));
    List<List<String>> keyed = new ArrayList<>();
    List<List<String>> other = new ArrayList<>();
    TreeMap<Integer, Long> keyedIn = new TreeMap<>();
    for (Map.Entry<List<String>, Map<String, TreeMap<Integer, Long>>> e : byOperator.entrySet()) {
      String flinkName = e.getKey().get(2);
      String step = keyedSteps.stream().filter(s -> isStep(flinkName, s)).findFirst().orElse(null);
      // A name Flink cut is shown as the keyed step it belongs to, in full.
      String name =
          step != null && flinkName.length() >= FLINK_NAME_LIMIT
              ? shortName(step)
              : e.getKey().get(0);
      TreeMap<Integer, Long> in = e.getValue().getOrDefault(IN, new TreeMap<>());
      TreeMap<Integer, Long> out = e.getValue().getOrDefault(OUT, new TreeMap<>());
      String counts =
          total(in) > 0
              ? String.format("in %,d:%s  | out %,d", total(in), shares(in), total(out))
              : String.format("out %,d:%s", total(out), shares(out));
      (step != null ? keyed : other).add(List.of(name, counts));
      if (step != null) {
        in.forEach((subtask, n) -> keyedIn.merge(subtask, n, Long::sum));
      }
    }
    int width =
        Stream.concat(keyed.stream(), other.stream())
            .mapToInt(l -> l.get(0).length())
            .max()
            .orElse(0);
    List<String> lines = new ArrayList<>();
    lines.add("keyed steps (GroupByKey, Combine.perKey, ParDo with state or timers):");
    keyed.forEach(l -> lines.add(row(l, width)));
    if (keyed.isEmpty()) {
      lines.add("  (none found among the operators)");
    }
    lines.add("other operators:");
    other.forEach(l -> lines.add(row(l, width)));
    if (!keyed.isEmpty()) {
      lines.add(
          String.format("all keyed steps together: in %,d:%s", total(keyedIn), shares(keyedIn)));
    }
    return lines;
  }

  private static String row(List<String> nameAndCounts, int width) {
    String name = nameAndCounts.get(0);
    return "  " + name + " ".repeat(width - name.length()) + "  " + nameAndCounts.get(1);
  }

  /** {@code subtask 0: 750 (75.0%) subtask 1: 250 (25.0%)}. */
  private static String shares(Map<Integer, Long> bySubtask) {
    long sum = total(bySubtask);
    StringBuilder sb = new StringBuilder();
    bySubtask.forEach(
        (subtask, n) ->
            sb.append(
                String.format(
                    "  subtask %d: %,d (%.1f%%)", subtask, n, sum == 0 ? 0 : 100.0 * n / sum)));
    return sb.toString();
  }

  /**
   * Whether a Flink operator runs the Beam step {@code fullStep} (a full name such as {@code
   * ReferenceViews/DeduplicateEvents/GroupBuckets}): the step itself, a part of it, or, for a name
   * Flink cut at {@value #FLINK_NAME_LIMIT} characters, a name the step starts with. Both names are
   * compared without Beam's primitives ({@link #shortName}).
   */
  static boolean isStep(String flinkName, String fullStep) {
    String name = shortName(flinkName);
    String step = shortName(fullStep);
    return name.equals(step)
        || name.startsWith(step + "/")
        || (flinkName.length() >= FLINK_NAME_LIMIT && name.length() > 0 && step.startsWith(name));
  }

  /**
   * The Beam step of a Flink operator name: without Flink's DataSet wrapper ({@code GroupReduce
   * (GroupReduce at STEP)}) and without Beam's primitives under it ({@code STEP/ParMultiDo(Fn)},
   * also when Flink cut the name inside one).
   */
  static String shortName(String flinkName) {
    String name = flinkName.strip();
    Matcher m = DATASET_NAME.matcher(name);
    if (m.matches()) {
      name = m.group(1);
      // The wrapper's closing parenthesis, unless Flink cut it off.
      if (name.endsWith(")") && count(name, ')') > count(name, '(')) {
        name = name.substring(0, name.length() - 1);
      }
    }
    int slash;
    while ((slash = name.lastIndexOf('/')) > 0 && isPrimitive(name.substring(slash + 1))) {
      // Keep an output's tag: STEP/ParMultiDo(Fn).out0 -> STEP.out0.
      String segment = name.substring(slash + 1);
      int close = segment.lastIndexOf(')');
      name = name.substring(0, slash) + (close < 0 ? "" : segment.substring(close + 1));
    }
    return name;
  }

  private static boolean isPrimitive(String segment) {
    return BEAM_PRIMITIVES.stream().anyMatch(p -> segment.startsWith(p) || p.startsWith(segment));
  }

  private static long count(String s, char c) {
    return s.chars().filter(x -> x == c).count();
  }

  private static long total(Map<Integer, Long> bySubtask) {
    return bySubtask.values().stream().mapToLong(Long::longValue).sum();
  }
}
