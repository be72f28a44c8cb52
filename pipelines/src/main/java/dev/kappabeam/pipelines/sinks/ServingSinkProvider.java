package dev.kappabeam.pipelines.sinks;

import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.transforms.views.ViewDefinition;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.POutput;
import org.apache.beam.sdk.values.Row;

/**
 * A serving store the views can be written to, selected by {@code --servingStore=<name>}. The JDBC
 * store ({@code jdbc}, the default) is built in; other stores (e.g. BigQuery) live in their own
 * modules and register an implementation in {@code META-INF/services}, so the pipelines module does
 * not depend on them.
 */
public interface ServingSinkProvider {
  /** The value of {@code --servingStore} that selects this store. */
  String name();

  /**
   * The sink writing {@code view}'s rows into the table of {@code options.getViewVersion()}; fails
   * with a clear message when an option this store needs is missing.
   */
  PTransform<PCollection<Row>, ? extends POutput> sink(
      KappaBeamOptions options, ViewDefinition view);
}
