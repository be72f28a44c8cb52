package dev.kappabeam.runners.dataflow.bigquery;

import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/**
 * Where {@code --servingStore=bigquery} writes the views: one table {@code <view>__<version>} per
 * view in {@code --bigQueryDataset} of {@code --bigQueryProject}. Registered through {@link
 * BigQueryServingOptionsRegistrar}, so {@code --help} lists these flags and strict parsing accepts
 * them wherever this module is on the classpath.
 */
public interface BigQueryServingOptions extends PipelineOptions {
  @Description(
      "BigQuery project of the serving dataset (--servingStore=bigquery). Default: --project.")
  String getBigQueryProject();

  void setBigQueryProject(String value);

  @Description(
      "BigQuery dataset of the serving tables (--servingStore=bigquery); it must exist. Each view"
          + " version is a table <view>__<version>; see runners/dataflow/README.md.")
  String getBigQueryDataset();

  void setBigQueryDataset(String value);
}
