package dev.kappabeam.pipelines;

import dev.kappabeam.transforms.events.DeadLetter;
import dev.kappabeam.transforms.events.Event;
import dev.kappabeam.transforms.views.ViewDefinition;
import java.util.Map;
import java.util.Objects;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.POutput;
import org.apache.beam.sdk.values.Row;

/**
 * Where a pipeline's outputs go: one sink per view, one for dead letters, one for late events.
 * Production hands in the serving-store and Kafka sinks; tests hand in collecting sinks.
 */
public final class ViewSinks {
  private final Map<ViewDefinition, PTransform<PCollection<Row>, ? extends POutput>> views;
  private final PTransform<PCollection<DeadLetter>, ? extends POutput> deadLetters;
  private final PTransform<PCollection<Event>, ? extends POutput> late;

  public ViewSinks(
      Map<ViewDefinition, PTransform<PCollection<Row>, ? extends POutput>> views,
      PTransform<PCollection<DeadLetter>, ? extends POutput> deadLetters,
      PTransform<PCollection<Event>, ? extends POutput> late) {
    this.views = Map.copyOf(views);
    this.deadLetters = Objects.requireNonNull(deadLetters);
    this.late = Objects.requireNonNull(late);
  }

  public Map<ViewDefinition, PTransform<PCollection<Row>, ? extends POutput>> views() {
    return views;
  }

  public PTransform<PCollection<DeadLetter>, ? extends POutput> deadLetters() {
    return deadLetters;
  }

  public PTransform<PCollection<Event>, ? extends POutput> late() {
    return late;
  }
}
