package dev.kappabeam.runners.dataflow.bigquery;

import com.google.api.services.bigquery.model.TableReference;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.Views;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;

/**
 * The BigQuery side of the serving store: table names, the table DDL ({@code bq query} can create
 * the tables ahead of the job, or the sink creates them), and the read rule as SQL.
 *
 * <p>Tables: {@code <project>.<dataset>.<view>__<version>} ({@link ViewStore#tableName}, the same
 * names as the JDBC store), the view's columns in contract order (DATETIME → TIMESTAMP, INT64 →
 * INT64, STRING → STRING), {@code PRIMARY KEY (<key>) NOT ENFORCED}, {@code PARTITION BY
 * DATE(<window or session start>)}, {@code CLUSTER BY <key>}.
 *
 * <p>Reading: {@code <table>_current}, a SQL view. For keyed views it is the table itself (BigQuery
 * CDC keeps one row per key, the one with the largest progress). For sessions it also leaves out
 * every row whose [session_start, session_end] lies strictly inside another row of the same user:
 * the shorter sessions a late event merged into one ({@link ViewDefinition#supersedes}).
 *
 * <pre>
 * java -cp kappa-beam-runner-dataflow-shaded.jar \
 *   dev.kappabeam.runners.dataflow.bigquery.BigQueryViewTables my-project serving v1
 * </pre>
 */
public final class BigQueryViewTables {
  private BigQueryViewTables() {}

  /** The table of {@code view} at {@code version}; the version must match {@code [a-z0-9_]+}. */
  public static TableReference table(
      String project, String dataset, ViewDefinition view, String version) {
    return new TableReference()
        .setProjectId(project)
        .setDatasetId(dataset)
        .setTableId(ViewStore.tableName(view, version));
  }

  /** The name of the read view of a table. */
  public static String currentViewName(ViewDefinition view, String version) {
    return ViewStore.tableName(view, version) + "_current";
  }

  /** The day-partitioning column: the first time column of the key. */
  public static String partitionColumn(ViewDefinition view) {
    for (String k : view.keyColumns()) {
      if (view.schema().getField(k).getType().getTypeName() == Schema.TypeName.DATETIME) {
        return k;
      }
    }
    throw new IllegalArgumentException(view.name() + " has no time column in its key");
  }

  /**
   * The {@code _CHANGE_SEQUENCE_NUMBER} of a row: its progress value in hexadecimal. Progress is a
   * count, never negative, and never decreases from one pane of a key to the next.
   */
  public static String changeSequenceNumber(ViewDefinition view, Row row) {
    long progress = view.progress(row);
    if (progress < 0) {
      throw new IllegalArgumentException(
          view.name() + ": negative " + view.progressColumn() + " " + progress);
    }
    return Long.toHexString(progress);
  }

  /** {@code CREATE TABLE IF NOT EXISTS} for one view version, in GoogleSQL. */
  public static String createTableDdl(
      String project, String dataset, ViewDefinition view, String version) {
    List<String> columns = new ArrayList<>();
    for (Schema.Field f : view.schema().getFields()) {
      columns.add(
          bq(f.getName())
              + " "
              + bigQueryType(view, f)
              + (f.getType().getNullable() ? "" : " NOT NULL"));
    }
    String key = view.keyColumns().stream().map(BigQueryViewTables::bq).collect(joining());
    return "CREATE TABLE IF NOT EXISTS "
        + bq(project + "." + dataset + "." + ViewStore.tableName(view, version))
        + " (\n  "
        + String.join(",\n  ", columns)
        + ",\n  PRIMARY KEY ("
        + key
        + ") NOT ENFORCED\n)\nPARTITION BY DATE("
        + bq(partitionColumn(view))
        + ")\nCLUSTER BY "
        + key;
  }

  /** {@code CREATE OR REPLACE VIEW <table>_current} over {@link #currentRowsQuery}. */
  public static String createCurrentViewDdl(
      String project, String dataset, ViewDefinition view, String version) {
    String prefix = project + "." + dataset + ".";
    return "CREATE OR REPLACE VIEW "
        + bq(prefix + currentViewName(view, version))
        + " AS\n"
        + currentRowsQuery(
            bq(prefix + ViewStore.tableName(view, version)), view, BigQueryViewTables::bq);
  }

  /**
   * The current rows of a view table: every row, except (for sessions) those superseded by a longer
   * session of the same user. {@code table} is the quoted table expression, {@code quote} quotes a
   * column name (backquotes in BigQuery; the query is otherwise standard SQL, which lets a test run
   * it on H2 with double quotes).
   */
  public static String currentRowsQuery(
      String table, ViewDefinition view, UnaryOperator<String> quote) {
    String columns =
        view.schema().getFieldNames().stream().map(c -> "a." + quote.apply(c)).collect(joining());
    String select = "SELECT " + columns + " FROM " + table + " AS a";
    if (view.kind() == ViewDefinition.Kind.KEYED) {
      return select;
    }
    String user = quote.apply(view.partitionColumn());
    String start = quote.apply(view.spanStartColumn());
    String end = quote.apply(view.spanEndColumn());
    return select
        + "\nWHERE NOT EXISTS (\n  SELECT 1 FROM "
        + table
        + " AS b\n  WHERE b."
        + user
        + " = a."
        + user
        + "\n    AND b."
        + start
        + " <= a."
        + start
        + " AND a."
        + end
        + " <= b."
        + end
        + "\n    AND (b."
        + start
        + " < a."
        + start
        + " OR a."
        + end
        + " < b."
        + end
        + "))";
  }

  private static String bigQueryType(ViewDefinition view, Schema.Field f) {
    switch (f.getType().getTypeName()) {
      case INT16:
      case INT32:
      case INT64:
        return "INT64";
      case DOUBLE:
        return "FLOAT64";
      case BOOLEAN:
        return "BOOL";
      case STRING:
        return "STRING";
      case DATETIME:
        return "TIMESTAMP";
      default:
        throw new IllegalArgumentException(
            view.name() + " column " + f.getName() + ": no BigQuery type for " + f.getType());
    }
  }

  private static String bq(String identifier) {
    return '`' + identifier + '`';
  }

  private static java.util.stream.Collector<CharSequence, ?, String> joining() {
    return Collectors.joining(", ");
  }

  /**
   * Prints the DDL of every view's table and read view for one version: {@code <project> <dataset>
   * <version>}.
   */
  public static void main(String[] args) {
    if (args.length != 3) {
      System.err.println("usage: BigQueryViewTables <project> <dataset> <version>");
      System.exit(2);
    }
    for (ViewDefinition v : Views.all()) {
      System.out.println(createTableDdl(args[0], args[1], v, args[2]) + ";\n");
      System.out.println(createCurrentViewDdl(args[0], args[1], v, args[2]) + ";\n");
    }
  }
}
