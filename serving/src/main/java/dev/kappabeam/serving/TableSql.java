package dev.kappabeam.serving;

import dev.kappabeam.transforms.views.ViewDefinition;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;

/**
 * The SQL for one view-version table: the same text on PostgreSQL and H2 (standard SQL, every
 * identifier double-quoted so its lower case survives on both whatever H2's case settings).
 */
final class TableSql {
  final ViewDefinition view;
  final String table;
  private final List<String> columns;
  private final List<ColumnType> types;

  TableSql(ViewDefinition view, String table) {
    this.view = view;
    this.table = table;
    this.columns = view.schema().getFieldNames();
    List<ColumnType> t = new ArrayList<>();
    for (Schema.Field f : view.schema().getFields()) {
      t.add(ColumnType.of(view.name(), f));
    }
    this.types = List.copyOf(t);
  }

  /**
   * The store-wide table of apply locks: {@link #LOCK_BUCKETS} rows per session-view table, each
   * guarding the users that hash to it (see {@link #lockBucket}).
   */
  static final String LOCK_TABLE = "kb_apply_locks";

  /**
   * Lock rows per session table. Part of the on-disk contract: every writer of a table must hash
   * users to the same buckets, so changing this or {@link #lockBucket} needs all writers stopped.
   */
  static final int LOCK_BUCKETS = 64;

  static String q(String identifier) {
    return '"' + identifier + '"';
  }

  /**
   * The rows of several versions' tables of {@code view} as one relation: each version's columns
   * with its name in a first column {@code kb_version} ({@code SELECT 'v1' AS "kb_version", ...
   * FROM "view__v1" UNION ALL ...}); an alias or a Lambda view joins it to its pointer row.
   */
  static String versionsUnion(ViewDefinition view, List<String> versions) {
    String columns =
        view.schema().getFieldNames().stream()
            .map(TableSql::q)
            .collect(java.util.stream.Collectors.joining(", "));
    List<String> branches = new ArrayList<>();
    for (String version : versions) {
      branches.add(
          "SELECT '"
              + version
              + "' AS "
              + q("kb_version")
              + ", "
              + columns
              + " FROM "
              + q(ViewStore.tableName(view, version)));
    }
    return String.join(" UNION ALL ", branches);
  }

  /** The view's columns qualified by {@code alias}, in schema order: {@code t."a", t."b"}. */
  static String qualifiedColumns(ViewDefinition view, String alias) {
    return view.schema().getFieldNames().stream()
        .map(col -> alias + "." + q(col))
        .collect(java.util.stream.Collectors.joining(", "));
  }

  String createTable() {
    List<String> defs = new ArrayList<>();
    for (int i = 0; i < columns.size(); i++) {
      boolean nullable = view.schema().getField(i).getType().getNullable();
      defs.add(q(columns.get(i)) + " " + types.get(i).sql + (nullable ? "" : " NOT NULL"));
    }
    defs.add("PRIMARY KEY (" + list(view.keyColumns(), "") + ")");
    return "CREATE TABLE IF NOT EXISTS " + q(table) + " (" + String.join(", ", defs) + ")";
  }

  static String createLockTable() {
    return "CREATE TABLE IF NOT EXISTS "
        + q(LOCK_TABLE)
        + " ("
        + q("table_name")
        + " VARCHAR NOT NULL, "
        + q("bucket")
        + " INTEGER NOT NULL, PRIMARY KEY ("
        + q("table_name")
        + ", "
        + q("bucket")
        + "))";
  }

  /** Inserts one lock row (table name, bucket) unless it exists. */
  static String insertLockIfMissing() {
    return "MERGE INTO "
        + q(LOCK_TABLE)
        + " AS t USING (VALUES (CAST(? AS VARCHAR), CAST(? AS INTEGER))) AS s ("
        + q("table_name")
        + ", "
        + q("bucket")
        + ") ON t."
        + q("table_name")
        + " = s."
        + q("table_name")
        + " AND t."
        + q("bucket")
        + " = s."
        + q("bucket")
        + " WHEN NOT MATCHED THEN INSERT ("
        + q("table_name")
        + ", "
        + q("bucket")
        + ") VALUES (s."
        + q("table_name")
        + ", s."
        + q("bucket")
        + ")";
  }

  static String deleteLocks() {
    return "DELETE FROM " + q(LOCK_TABLE) + " WHERE " + q("table_name") + " = ?";
  }

  /**
   * Locks {@code n} buckets (parameters 2..n+1) of the table (parameter 1) until the transaction
   * ends, in bucket order so that two writers cannot deadlock on them.
   */
  static String lockBuckets(int n) {
    return "SELECT "
        + q("bucket")
        + " FROM "
        + q(LOCK_TABLE)
        + " WHERE "
        + q("table_name")
        + " = ? AND "
        + q("bucket")
        + " IN ("
        + String.join(", ", Collections.nCopies(n, "?"))
        + ") ORDER BY "
        + q("bucket")
        + " FOR UPDATE";
  }

  /** The lock bucket of a partition value (a user): stable across JVMs and processes. */
  static int lockBucket(Object partitionValue) {
    return Math.floorMod(String.valueOf(partitionValue).hashCode(), LOCK_BUCKETS);
  }

  String dropTable() {
    return "DROP TABLE " + q(table);
  }

  String count() {
    return "SELECT COUNT(*) FROM " + q(table);
  }

  String selectAll() {
    return "SELECT " + list(columns, "") + " FROM " + q(table);
  }

  /** Rows whose partition column (the user, for sessions) is one of {@code n} parameters. */
  String selectPartitions(int n) {
    return selectAll()
        + " WHERE "
        + q(view.partitionColumn())
        + " IN ("
        + String.join(", ", Collections.nCopies(n, "?"))
        + ")";
  }

  /**
   * Upsert of one row that only replaces an existing row with a strictly larger progress value, so
   * a stale or repeated pane leaves the row alone. Standard SQL MERGE (PostgreSQL 15+, H2 2.x).
   */
  String mergeIfProgressed() {
    List<String> casts = new ArrayList<>();
    for (ColumnType t : types) {
      casts.add("CAST(? AS " + t.sql + ")");
    }
    String on =
        view.keyColumns().stream()
            .map(k -> "t." + q(k) + " = s." + q(k))
            .collect(Collectors.joining(" AND "));
    List<String> values = new ArrayList<>(columns);
    values.removeAll(view.keyColumns());
    String set = values.stream().map(c -> q(c) + " = s." + q(c)).collect(Collectors.joining(", "));
    String progress = q(view.progressColumn());
    return "MERGE INTO "
        + q(table)
        + " AS t USING (VALUES ("
        + String.join(", ", casts)
        + ")) AS s ("
        + list(columns, "")
        + ") ON "
        + on
        + " WHEN MATCHED AND s."
        + progress
        + " > t."
        + progress
        + " THEN UPDATE SET "
        + set
        + " WHEN NOT MATCHED THEN INSERT ("
        + list(columns, "")
        + ") VALUES ("
        + list(columns, "s.")
        + ")";
  }

  String insert() {
    return "INSERT INTO "
        + q(table)
        + " ("
        + list(columns, "")
        + ") VALUES ("
        + String.join(", ", Collections.nCopies(columns.size(), "?"))
        + ")";
  }

  String deleteByKey() {
    return "DELETE FROM "
        + q(table)
        + " WHERE "
        + view.keyColumns().stream().map(k -> q(k) + " = ?").collect(Collectors.joining(" AND "));
  }

  /** Binds every column of {@code row}, in schema order, from parameter 1. */
  void bindRow(PreparedStatement ps, Row row) throws SQLException {
    for (int i = 0; i < columns.size(); i++) {
      types.get(i).bind(ps, i + 1, row.getValue(columns.get(i)));
    }
  }

  /** Binds the key columns of {@code row}, in key order, from parameter 1. */
  void bindKey(PreparedStatement ps, Row row) throws SQLException {
    List<String> keys = view.keyColumns();
    for (int i = 0; i < keys.size(); i++) {
      type(keys.get(i)).bind(ps, i + 1, row.getValue(keys.get(i)));
    }
  }

  void bindColumn(PreparedStatement ps, int index, String column, Object value)
      throws SQLException {
    type(column).bind(ps, index, value);
  }

  void bindPartition(PreparedStatement ps, int index, Object value) throws SQLException {
    type(view.partitionColumn()).bind(ps, index, value);
  }

  /** The row at the result set's cursor, from a query over {@link #selectAll()}'s columns. */
  Row readRow(ResultSet rs) throws SQLException {
    Object[] values = new Object[columns.size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = types.get(i).read(rs, i + 1);
    }
    return Row.withSchema(view.schema()).addValues(values).build();
  }

  private ColumnType type(String column) {
    return types.get(columns.indexOf(column));
  }

  private static String list(List<String> names, String prefix) {
    return names.stream().map(n -> prefix + q(n)).collect(Collectors.joining(", "));
  }
}
