package dev.kappabeam.runners.dataflow.bigquery;

import java.util.List;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsRegistrar;

/**
 * Makes {@link BigQueryServingOptions} known to {@code PipelineOptionsFactory} (META-INF/services).
 */
public final class BigQueryServingOptionsRegistrar implements PipelineOptionsRegistrar {
  @Override
  public Iterable<Class<? extends PipelineOptions>> getPipelineOptions() {
    return List.of(BigQueryServingOptions.class);
  }
}
