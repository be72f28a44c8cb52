package dev.kappabeam.benchmarks;

import java.util.Set;
import java.util.TreeSet;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.runners.TransformHierarchy;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.reflect.DoFnSignature;
import org.apache.beam.sdk.transforms.reflect.DoFnSignatures;

/**
 * The full names of a pipeline's keyed steps: every {@code GroupByKey}, every {@code
 * Combine.perKey}, and every {@code ParDo} whose {@code DoFn} has state or timers. Read from the
 * pipeline as built, before a runner replaces any transform, so the subtask table can put the steps
 * whose work is split by key first whatever they are called.
 */
final class KeyedSteps {
  private KeyedSteps() {}

  static Set<String> of(Pipeline pipeline) {
    Set<String> steps = new TreeSet<>();
    pipeline.traverseTopologically(
        new Pipeline.PipelineVisitor.Defaults() {
          @Override
          public CompositeBehavior enterCompositeTransform(TransformHierarchy.Node node) {
            if (!node.isRootNode() && isKeyed(node.getTransform())) {
              steps.add(node.getFullName());
              return CompositeBehavior.DO_NOT_ENTER_TRANSFORM;
            }
            return CompositeBehavior.ENTER_TRANSFORM;
          }

          @Override
          public void visitPrimitiveTransform(TransformHierarchy.Node node) {
            if (isKeyed(node.getTransform())) {
              steps.add(node.getFullName());
            }
          }
        });
    return steps;
  }

  private static boolean isKeyed(PTransform<?, ?> t) {
    if (t instanceof GroupByKey<?, ?> || t instanceof Combine.PerKey<?, ?, ?>) {
      return true;
    }
    if (t instanceof ParDo.MultiOutput<?, ?> p) {
      DoFnSignature s = DoFnSignatures.signatureForDoFn(p.getFn());
      return s.usesState() || s.usesTimers();
    }
    return false;
  }
}
