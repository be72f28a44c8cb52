package dev.kappabeam.pipelines.options;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.Validation;

/** The serving database the views are written to, and which view version this run builds. */
public interface ServingStoreOptions extends PipelineOptions {
  @Description(
      "Where the views are written: jdbc (default: --jdbcUrl) or a store whose module is on the"
          + " classpath (e.g. bigquery in the Dataflow jar).")
  @Default.String("jdbc")
  String getServingStore();

  void setServingStore(String value);

  @Description(
      "JDBC URL of the serving store (H2 server or PostgreSQL); needed by --servingStore=jdbc.")
  String getJdbcUrl();

  void setJdbcUrl(String value);

  @Description("JDBC user.")
  @Default.String("kb")
  String getJdbcUser();

  void setJdbcUser(String value);

  @Description("JDBC password.")
  @Default.String("kb")
  String getJdbcPassword();

  void setJdbcPassword(String value);

  @Description("The view version this run writes, e.g. v1: one table <view>__<version> per view.")
  @Validation.Required
  String getViewVersion();

  void setViewVersion(String value);

  @Description(
      "Report how far the job has read each partition into the serving store's kb_read_progress"
          + " table (jdbc store only), for live progress and catch-up on every runner.")
  @Default.Boolean(true)
  boolean getReportProgress();

  void setReportProgress(boolean value);

  @Description(
      "Identifies this run's rows in kb_read_progress; default: a new random id at launch. kb"
          + " sets it so it reads back its own run.")
  @Default.String("")
  String getRunId();

  void setRunId(String value);

  @Description("Comma-separated views to build; empty for all.")
  @Default.String("")
  String getViews();

  void setViews(String value);
}
