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

  @Description(
      "File holding the JDBC password, read on each worker when it connects (mount it there, e.g."
          + " a Kubernetes or Dataflow secret volume). Wins over --jdbcPasswordEnv.")
  String getJdbcPasswordFile();

  void setJdbcPasswordFile(String value);

  @Description(
      "Name of the environment variable holding the JDBC password, read on each worker when it"
          + " connects; when it is unset there, the local stack's default password kb is used.")
  @Default.String("KB_JDBC_PASSWORD")
  String getJdbcPasswordEnv();

  void setJdbcPasswordEnv(String value);

  /**
   * Refused: a password given as an option is shown by runners (Flink web UI, Dataflow job spec)
   * and in {@code ps}. Kept so the refusal can say what to use instead.
   *
   * @deprecated use {@link #getJdbcPasswordFile()} or {@link #getJdbcPasswordEnv()}
   */
  @Deprecated
  @Description("Refused (runners display options): use --jdbcPasswordFile or --jdbcPasswordEnv.")
  String getJdbcPassword();

  /**
   * @deprecated see {@link #getJdbcPassword()}
   */
  @Deprecated
  void setJdbcPassword(String value);

  @Description(
      "How long the serving-store sink rides out a lost or refused database connection (ISO-8601,"
          + " e.g. PT2M): it retries with backoff, losing nothing; beyond it the job fails, and a"
          + " resumed run (kb run --resume, kb reprocess) recovers exactly. PT0S fails at once.")
  @Default.String("PT2M")
  String getOutageGrace();

  void setOutageGrace(String value);

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
