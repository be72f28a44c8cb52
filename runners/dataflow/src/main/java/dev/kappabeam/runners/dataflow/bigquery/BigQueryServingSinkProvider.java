package dev.kappabeam.runners.dataflow.bigquery;

import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.pipelines.sinks.ServingSinkProvider;
import dev.kappabeam.transforms.views.ViewDefinition;
import org.apache.beam.runners.dataflow.options.DataflowPipelineOptions;
import org.apache.beam.sdk.extensions.gcp.options.GcpOptions;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.POutput;
import org.apache.beam.sdk.values.Row;

/**
 * {@code --servingStore=bigquery}: each view into its BigQuery table through {@link
 * BigQueryViewSink}. Needs {@code --bigQueryDataset} and a project ({@code --bigQueryProject} or
 * {@code --project}).
 *
 * <p>At launch BigQueryIO checks that the dataset exists (a clear early failure instead of failing
 * workers). The check is skipped when the run only writes a job specification ({@code
 * --templateLocation}): the template's dataset is the one of the project it is launched in, and the
 * offline translation test has no BigQuery to ask.
 */
public final class BigQueryServingSinkProvider implements ServingSinkProvider {
  /** The value of {@code --servingStore} that selects BigQuery. */
  public static final String NAME = "bigquery";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public PTransform<PCollection<Row>, ? extends POutput> sink(
      KappaBeamOptions options, ViewDefinition view) {
    BigQueryServingOptions bq = options.as(BigQueryServingOptions.class);
    String project = bq.getBigQueryProject();
    if (project == null || project.isBlank()) {
      project = options.as(GcpOptions.class).getProject();
    }
    if (project == null || project.isBlank()) {
      throw new IllegalArgumentException(
          "--servingStore=bigquery needs a project: --bigQueryProject=<project> or --project");
    }
    String dataset = bq.getBigQueryDataset();
    if (dataset == null || dataset.isBlank()) {
      throw new IllegalArgumentException(
          "--servingStore=bigquery needs --bigQueryDataset=<dataset> (an existing BigQuery"
              + " dataset; one table <view>__<version> per view is created in it)");
    }
    String template = options.as(DataflowPipelineOptions.class).getTemplateLocation();
    boolean templateOnly = template != null && !template.isBlank();
    BigQueryViewSink sink =
        BigQueryViewSink.of(
            BigQueryViewTables.table(project, dataset, view, options.getViewVersion()), view);
    return templateOnly ? sink.withoutValidation() : sink;
  }
}
