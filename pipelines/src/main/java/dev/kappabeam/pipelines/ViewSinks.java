package dev.kappabeam.pipelines;

import dev.kappabeam.transforms.events.DeadLetter;
import dev.kappabeam.transforms.events.SourceRecord;
import dev.kappabeam.transforms.views.ViewDefinition;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.POutput;
import org.apache.beam.sdk.values.Row;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Where a pipeline's outputs go: one sink per view, one for dead letters, one for late events, and
 * optionally one for the job's read progress. Production hands in the serving-store and Kafka
 * sinks; tests hand in collecting sinks.
 */
public final class ViewSinks {
  private final Map<ViewDefinition, PTransform<PCollection<Row>, ? extends POutput>> views;
  private final PTransform<PCollection<DeadLetter>, ? extends POutput> deadLetters;
  private final PTransform<? extends PCollection<?>, ? extends POutput> late;
  private final @Nullable PTransform<PCollection<SourceRecord>, PCollection<SourceRecord>> progress;

  public ViewSinks(
      Map<ViewDefinition, PTransform<PCollection<Row>, ? extends POutput>> views,
      PTransform<PCollection<DeadLetter>, ? extends POutput> deadLetters,
      PTransform<? extends PCollection<?>, ? extends POutput> late) {
    this(views, deadLetters, late, null);
  }

  private ViewSinks(
      Map<ViewDefinition, PTransform<PCollection<Row>, ? extends POutput>> views,
      PTransform<PCollection<DeadLetter>, ? extends POutput> deadLetters,
      PTransform<? extends PCollection<?>, ? extends POutput> late,
      @Nullable PTransform<PCollection<SourceRecord>, PCollection<SourceRecord>> progress) {
    this.views = Map.copyOf(views);
    this.deadLetters = Objects.requireNonNull(deadLetters);
    this.late = Objects.requireNonNull(late);
    this.progress = progress;
  }

  /**
   * The same sinks, plus a pass-through that sees every record read before the views do (for {@code
   * ReportReadProgress}).
   */
  public ViewSinks withProgress(
      PTransform<PCollection<SourceRecord>, PCollection<SourceRecord>> sink) {
    return new ViewSinks(views, deadLetters, late, Objects.requireNonNull(sink, "sink"));
  }

  /** The read-progress sink, if any. */
  public Optional<PTransform<PCollection<SourceRecord>, PCollection<SourceRecord>>> progress() {
    return Optional.ofNullable(progress);
  }

  public Map<ViewDefinition, PTransform<PCollection<Row>, ? extends POutput>> views() {
    return views;
  }

  public PTransform<PCollection<DeadLetter>, ? extends POutput> deadLetters() {
    return deadLetters;
  }

  public PTransform<? extends PCollection<?>, ? extends POutput> late() {
    return late;
  }
}
