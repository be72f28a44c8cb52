package dev.kappabeam.runners.dataflow.bigquery;

import com.google.api.services.bigquery.model.Clustering;
import com.google.api.services.bigquery.model.TableReference;
import com.google.api.services.bigquery.model.TimePartitioning;
import dev.kappabeam.transforms.views.ViewDefinition;
import java.util.Objects;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryIO;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryServices;
import org.apache.beam.sdk.io.gcp.bigquery.RowMutationInformation;
import org.apache.beam.sdk.io.gcp.bigquery.RowMutationInformation.MutationType;
import org.apache.beam.sdk.io.gcp.bigquery.WriteResult;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Writes one view's rows into its BigQuery table with BigQuery change data capture: every row is an
 * {@code UPSERT} by the view's key ({@link ViewDefinition#keyColumns()}, the table's primary key)
 * whose {@code _CHANGE_SEQUENCE_NUMBER} is the view's progress column ({@link
 * ViewDefinition#progressColumn()}, a count that never decreases from one pane of a key to the
 * next). BigQuery keeps, per key, the row with the largest sequence number whatever order the panes
 * arrive in, so accumulating panes, a retried bundle, a restarted job or a replay into the same
 * version converge on the final answer, exactly like the JDBC store's progress-guarded MERGE.
 *
 * <p>Session rows that a merged session supersedes have another key (an earlier start) and stay in
 * the table; the read view ({@link BigQueryViewTables#currentRowsQuery}) leaves them out, by the
 * same rule as {@link ViewDefinition#supersedes}.
 *
 * <p>Storage Write API, at-least-once (the only method BigQuery CDC supports), on bounded and
 * unbounded input alike. The table is created if needed: the view's columns (Beam schema → BigQuery
 * types), primary key {@code NOT ENFORCED}, day partitions on the first time column of the key
 * ({@code window_start}, {@code session_start}) and clustering by the key.
 */
public final class BigQueryViewSink extends PTransform<PCollection<Row>, WriteResult> {
  private final TableReference table;
  private final ViewDefinition view;
  private final boolean validate;
  private final @Nullable BigQueryServices testServices;

  private BigQueryViewSink(
      TableReference table,
      ViewDefinition view,
      boolean validate,
      @Nullable BigQueryServices testServices) {
    this.table = Objects.requireNonNull(table, "table");
    this.view = Objects.requireNonNull(view, "view");
    this.validate = validate;
    this.testServices = testServices;
  }

  /** Writes {@code view}'s rows into {@code table}. */
  public static BigQueryViewSink of(TableReference table, ViewDefinition view) {
    return new BigQueryViewSink(table, view, true, null);
  }

  /** Does not check at launch that the dataset exists (for job specifications written offline). */
  public BigQueryViewSink withoutValidation() {
    return new BigQueryViewSink(table, view, false, testServices);
  }

  /** Talks to {@code services} instead of BigQuery (Beam's {@code FakeBigQueryServices}). */
  public BigQueryViewSink withTestServices(BigQueryServices services) {
    return new BigQueryViewSink(table, view, validate, services);
  }

  public TableReference table() {
    return table;
  }

  @Override
  public WriteResult expand(PCollection<Row> rows) {
    BigQueryIO.Write<Row> write =
        BigQueryIO.<Row>write()
            .to(table)
            .useBeamSchema()
            .withMethod(BigQueryIO.Write.Method.STORAGE_API_AT_LEAST_ONCE)
            .withCreateDisposition(BigQueryIO.Write.CreateDisposition.CREATE_IF_NEEDED)
            .withWriteDisposition(BigQueryIO.Write.WriteDisposition.WRITE_APPEND)
            .withPrimaryKey(view.keyColumns())
            .withTimePartitioning(
                new TimePartitioning()
                    .setType("DAY")
                    .setField(BigQueryViewTables.partitionColumn(view)))
            .withClustering(new Clustering().setFields(view.keyColumns()))
            .withRowMutationInformationFn(new Upsert(view));
    if (!validate) {
      write = write.withoutValidation();
    }
    if (testServices != null) {
      write = write.withTestServices(testServices);
    }
    return rows.apply("UpsertRows", write);
  }

  /** UPSERT with the progress column as the change sequence number. */
  static final class Upsert implements SerializableFunction<Row, RowMutationInformation> {
    private final ViewDefinition view;

    Upsert(ViewDefinition view) {
      this.view = view;
    }

    @Override
    public RowMutationInformation apply(Row row) {
      return RowMutationInformation.of(
          MutationType.UPSERT, BigQueryViewTables.changeSequenceNumber(view, row));
    }
  }
}
