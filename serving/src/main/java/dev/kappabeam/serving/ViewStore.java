package dev.kappabeam.serving;

import dev.kappabeam.transforms.views.ViewCatalog;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewTable;
import java.io.Writer;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.apache.beam.sdk.values.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The serving store: one SQL table per view version, to which view panes are applied idempotently
 * and in any order, and from which a version is read, exported or compared with another.
 *
 * <p>Tables are named {@code <view>__<version>} (e.g. {@code activity_per_minute__v2}) in the
 * connection's current schema, with exactly the view's columns (timestamps as {@code TIMESTAMP WITH
 * TIME ZONE}, counts as {@code BIGINT}, strings as {@code VARCHAR}) and a primary key on the view's
 * key columns. The SQL is the same on PostgreSQL 15+ and on H2 2.x in PostgreSQL mode.
 *
 * <p>{@link #apply} is the sink's write: rows are accumulating panes that may arrive more than once
 * and in any order, and a batch is applied in one transaction (per range of users' lock buckets,
 * for session views) with the rule of {@link ViewDefinition#supersedes} exactly as {@link
 * ViewTable#apply} does, so a replayed or retried bundle changes nothing and the end state does not
 * depend on arrival order. Keyed views use a SQL {@code MERGE} that only replaces a row whose
 * progress column is strictly smaller; session views lock the batch's users (rows of the store-wide
 * {@code kb_apply_locks} table, 64 buckets per session table), read their sessions, apply the batch
 * to them with {@link ViewTable} and write the difference (deletes of superseded sessions, inserts
 * of new ones). Both run at READ COMMITTED and are safe with any number of concurrent writers. A
 * transaction aborted for a serialization failure, a deadlock, a lock timeout or a concurrent
 * insert of the same key is retried as a whole up to {@link StoreConfig#maxAttempts()} times.
 *
 * <p>Each call opens its own connection, so one instance may be shared by threads. Reads ({@link
 * #readAll}, {@link #export}, {@link #diff}) hold the whole version in memory: views are
 * aggregates, far smaller than the event log.
 *
 * <pre>{@code
 * ViewStore store = new ViewStore(StoreConfig.of("jdbc:postgresql://db:5432/kb", "kb", secret));
 * store.createTable(Views.ACTIVITY_PER_MINUTE, "v2");
 * store.apply(Views.ACTIVITY_PER_MINUTE, "v2", panes);   // any order, any number of times
 * store.export(Views.ACTIVITY_PER_MINUTE, "v2", ExportFormat.CSV, writer);
 * System.out.print(store.diff(Views.ACTIVITY_PER_MINUTE, "v1", "v2").format("v1", "v2"));
 * }</pre>
 */
public final class ViewStore implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ViewStore.class);

  private static final Pattern VERSION = Pattern.compile("[a-z0-9_]+");

  /** PostgreSQL silently truncates longer identifiers, which could make two versions collide. */
  static final int MAX_TABLE_NAME_LENGTH = 63;

  /** Users per {@code IN (...)} query when reading the sessions a batch touches. */
  private static final int PARTITIONS_PER_QUERY = 500;

  /** Statements per JDBC batch execution. */
  private static final int BATCH_SIZE = 1000;

  /** Conflicts with a concurrent transaction, and concurrent creation of the same table. */
  private static final Set<String> RETRYABLE =
      union(SqlStates.CONFLICT, SqlStates.CONCURRENT_CREATE);

  private static Set<String> union(Set<String> a, Set<String> b) {
    Set<String> out = new java.util.HashSet<>(a);
    out.addAll(b);
    return Set.copyOf(out);
  }

  private final StoreConfig config;
  private final JdbcSession session;

  public ViewStore(StoreConfig config) {
    this.config = Objects.requireNonNull(config, "config");
    this.session = new JdbcSession(config, LOG, RETRYABLE);
  }

  public StoreConfig config() {
    return config;
  }

  /**
   * The table name of a view version, {@code <view>__<version>}.
   *
   * @throws IllegalArgumentException if the version is not {@code [a-z0-9_]+} or the name would be
   *     longer than PostgreSQL's 63-character limit
   */
  public static String tableName(ViewDefinition view, String version) {
    Objects.requireNonNull(view, "view");
    if (version == null || !VERSION.matcher(version).matches()) {
      throw new IllegalArgumentException(
          "invalid version '"
              + version
              + "' for view "
              + view.name()
              + ": use lower-case letters, digits and underscores only ([a-z0-9_]+), e.g. v2");
    }
    String name = view.name() + "__" + version;
    if (name.length() > MAX_TABLE_NAME_LENGTH) {
      throw new IllegalArgumentException(
          "version '"
              + version
              + "' is too long: table name "
              + name
              + " has "
              + name.length()
              + " characters, at most "
              + MAX_TABLE_NAME_LENGTH
              + " are allowed; use a shorter version");
    }
    return name;
  }

  /** Creates the table of a view version unless it exists (then it does nothing). */
  public void createTable(ViewDefinition view, String version) {
    TableSql sql = new TableSql(view, tableName(view, version));
    inTransaction(
        "create table " + sql.table,
        Connection.TRANSACTION_READ_COMMITTED,
        c -> {
          try (Statement st = c.createStatement()) {
            st.execute(sql.createTable());
          }
          if (view.kind() == ViewDefinition.Kind.SESSION) {
            createLocks(c, sql.table);
          }
          return null;
        });
  }

  /** True if the table of this view version exists. */
  public boolean tableExists(ViewDefinition view, String version) {
    String table = tableName(view, version);
    return withConnection("look up table " + table, c -> tableNames(c).contains(table));
  }

  /**
   * Every view-version table in the current schema, with its row count, sorted by view (in {@link
   * ViewCatalog#definitions()} order: the reference views first) and version (numbers inside a
   * version compare as numbers: v2 before v10). Tables whose name is not {@code <known
   * view>__<version>} are not listed.
   */
  public List<StoredTable> listTables() {
    return withConnection(
        "list tables",
        c -> {
          Set<String> names = tableNames(c);
          List<StoredTable> out = new ArrayList<>();
          for (ViewDefinition view : ViewCatalog.current().definitions()) {
            for (String version : versionsIn(names, view)) {
              TableSql sql = new TableSql(view, tableName(view, version));
              try (Statement st = c.createStatement();
                  ResultSet rs = st.executeQuery(sql.count())) {
                rs.next();
                out.add(new StoredTable(view, version, rs.getLong(1)));
              }
            }
          }
          return out;
        });
  }

  /** The versions of {@code view} that have a table, sorted as in {@link #listTables()}. */
  public List<String> versions(ViewDefinition view) {
    return withConnection("list versions of " + view.name(), c -> versionsIn(tableNames(c), view));
  }

  /**
   * Drops the table of a view version.
   *
   * @return true if it existed, false if there was nothing to drop
   * @throws ViewStoreException if the database refuses, e.g. because a SQL view (an alias) still
   *     reads the table
   */
  public boolean dropTable(ViewDefinition view, String version) {
    TableSql sql = new TableSql(view, tableName(view, version));
    return inTransaction(
        "drop table " + sql.table,
        Connection.TRANSACTION_READ_COMMITTED,
        c -> {
          if (!tableNames(c).contains(sql.table)) {
            return false;
          }
          try (Statement st = c.createStatement()) {
            st.execute(sql.dropTable());
          } catch (SQLException e) {
            if ("2BP01".equals(e.getSQLState()) || e.getErrorCode() == 90107) {
              throw new ViewStoreException(
                  "cannot drop "
                      + sql.table
                      + ": other objects depend on it (is an alias still pointing at this"
                      + " version?); switch or drop them first. Database said: "
                      + e.getMessage(),
                  e);
            }
            throw e;
          }
          // After the drop: H2 commits before DDL, so a refused drop must not lose the locks.
          if (view.kind() == ViewDefinition.Kind.SESSION
              && tableNames(c).contains(TableSql.LOCK_TABLE)) {
            try (PreparedStatement ps = c.prepareStatement(TableSql.deleteLocks())) {
              ps.setString(1, sql.table);
              ps.executeUpdate();
            }
          }
          return true;
        });
  }

  /**
   * Applies a batch of panes of {@code view} to its table {@code version}: keyed views in one
   * transaction; session views in one transaction per range of {@link
   * #LOCK_BUCKETS_PER_TRANSACTION} lock buckets (all rows of a user in one, so a reader never sees
   * a user's sessions half applied).
   *
   * <p>The result is that of {@link ViewTable#applyAll} over the table's rows followed by {@code
   * rows} in order, so applying the same batch twice, or the same panes in other batches and
   * orders, gives the same table. The table must exist ({@link #createTable}).
   *
   * @return how many table rows the batch inserted or replaced (0 if it held only stale or repeated
   *     panes; a key written twice in one batch counts once)
   * @throws IllegalArgumentException if a row does not have the view's schema
   * @throws ViewStoreException if the table is missing or the database fails
   */
  public int apply(ViewDefinition view, String version, List<Row> rows) {
    TableSql sql = new TableSql(view, tableName(view, version));
    for (Row r : rows) {
      if (!r.getSchema().equivalent(view.schema())) {
        throw new IllegalArgumentException(
            "row "
                + r
                + " does not have the schema of view "
                + view.name()
                + " ("
                + view.schema()
                + "); apply each view's rows to its own table");
      }
    }
    if (rows.isEmpty()) {
      return 0;
    }
    String what = "apply " + rows.size() + " rows to " + sql.table;
    switch (view.kind()) {
      case KEYED:
        List<Row> latest = latestPerKey(view, rows);
        return onTable(
            view,
            version,
            () ->
                inTransaction(
                    what, Connection.TRANSACTION_READ_COMMITTED, c -> applyKeyed(c, sql, latest)));
      case SESSION:
        int written = 0;
        for (List<Row> part : byLockRange(view, rows)) {
          written +=
              onTable(
                  view,
                  version,
                  () ->
                      inTransaction(
                          what,
                          Connection.TRANSACTION_READ_COMMITTED,
                          c -> applySessions(c, sql, part)));
        }
        return written;
      default:
        throw new IllegalStateException(view.kind().toString());
    }
  }

  /** Every row of a view version, sorted by key exactly as {@link ViewTable#rows()} sorts. */
  public List<Row> readAll(ViewDefinition view, String version) {
    TableSql sql = new TableSql(view, tableName(view, version));
    return onTable(
        view,
        version,
        () ->
            withConnection(
                "read " + sql.table,
                c -> {
                  List<Row> out = new ArrayList<>();
                  try (Statement st = c.createStatement();
                      ResultSet rs = st.executeQuery(sql.selectAll())) {
                    while (rs.next()) {
                      out.add(sql.readRow(rs));
                    }
                  }
                  // Sorted here rather than by ORDER BY: database collations order strings
                  // differently from Java (and from each other).
                  out.sort(RowValues.byKey(view));
                  return out;
                }));
  }

  /**
   * Every row of the view's live alias (the SQL view named {@code view.name()} that {@link
   * ViewRegistry} maintains), sorted by key: what a reader of the view sees now.
   */
  public List<Row> readLive(ViewDefinition view) {
    TableSql sql = new TableSql(view, view.name());
    return withConnection(
        "read the live alias " + view.name(),
        c -> {
          List<Row> out = new ArrayList<>();
          try (Statement st = c.createStatement();
              ResultSet rs = st.executeQuery(sql.selectAll())) {
            while (rs.next()) {
              out.add(sql.readRow(rs));
            }
          }
          out.sort(RowValues.byKey(view));
          return out;
        });
  }

  /**
   * How far a version's table has got: its row count, the sum of its progress column (events or
   * purchases) and the newest event time it reflects (the latest window start, or session end; null
   * for a view without a time column, {@link ViewDefinition#timeColumn}). Two equal results mean
   * the sink wrote nothing in between.
   */
  public TableProgress progress(ViewDefinition view, String version) {
    String table = tableName(view, version);
    String newestSql =
        view.timeColumn()
            .map(t -> "MAX(" + TableSql.q(t) + ")")
            .orElse("CAST(NULL AS TIMESTAMP WITH TIME ZONE)");
    String query =
        "SELECT COUNT(*), COALESCE(SUM("
            + TableSql.q(view.progressColumn())
            + "), 0), "
            + newestSql
            + " FROM "
            + TableSql.q(table);
    return withConnection(
        "read the progress of " + table,
        c -> {
          try (Statement st = c.createStatement();
              ResultSet rs = st.executeQuery(query)) {
            rs.next();
            java.time.OffsetDateTime newest = rs.getObject(3, java.time.OffsetDateTime.class);
            return new TableProgress(
                rs.getLong(1), rs.getLong(2), newest == null ? null : newest.toInstant());
          }
        });
  }

  /** See {@link #progress}. */
  public record TableProgress(long rows, long progressSum, java.time.Instant newestEventTime) {}

  /**
   * Writes every row of a view version to {@code out} in {@code format}, sorted by key (see {@link
   * ExportFormat}). Flushes {@code out} but does not close it.
   */
  public void export(ViewDefinition view, String version, ExportFormat format, Writer out) {
    format.write(view, readAll(view, version), out);
  }

  /** The rows in which two versions of a view differ (see {@link ViewDiff#compare}). */
  public ViewDiff diff(ViewDefinition view, String versionA, String versionB) {
    return ViewDiff.compare(view, readAll(view, versionA), readAll(view, versionB));
  }

  // ---------------------------------------------------------------------------------------------
  // Apply

  /**
   * For each key the first row with the largest progress: what applying the rows one by one would
   * leave, since a row only replaces one with strictly smaller progress.
   */
  private static List<Row> latestPerKey(ViewDefinition view, List<Row> rows) {
    Map<List<Object>, Row> latest = new LinkedHashMap<>();
    for (Row r : rows) {
      latest.merge(
          view.key(r), r, (old, neu) -> view.progress(neu) > view.progress(old) ? neu : old);
    }
    List<Row> out = new ArrayList<>(latest.values());
    // One lock order for all writers, so two batches touching the same keys wait, not deadlock.
    out.sort(RowValues.byKey(view));
    return out;
  }

  private static int applyKeyed(Connection c, TableSql sql, List<Row> rows) throws SQLException {
    int written = 0;
    try (PreparedStatement merge = c.prepareStatement(sql.mergeIfProgressed())) {
      int pending = 0;
      for (Row r : rows) {
        sql.bindRow(merge, r);
        merge.addBatch();
        if (++pending == BATCH_SIZE) {
          written += written(merge.executeBatch());
          pending = 0;
        }
      }
      if (pending > 0) {
        written += written(merge.executeBatch());
      }
    }
    return written;
  }

  /**
   * Lock buckets per transaction of a session batch. A batch of a few thousand users touches every
   * lock bucket, so two writers applying whole batches (the sink's subtasks) would queue behind
   * each other; applied range by range, in the same order by every writer, the second one follows
   * the first a range behind instead of waiting for all of it.
   */
  static final int LOCK_BUCKETS_PER_TRANSACTION = 8;

  /**
   * {@code rows} split by range of lock buckets (see {@link #LOCK_BUCKETS_PER_TRANSACTION}), ranges
   * in ascending order, rows in their order: all rows of a user are in one part, in order.
   */
  private static List<List<Row>> byLockRange(ViewDefinition view, List<Row> rows) {
    String partition = view.partitionColumn();
    java.util.TreeMap<Integer, List<Row>> parts = new java.util.TreeMap<>();
    for (Row r : rows) {
      int range = TableSql.lockBucket(r.getValue(partition)) / LOCK_BUCKETS_PER_TRANSACTION;
      parts.computeIfAbsent(range, k -> new ArrayList<>()).add(r);
    }
    return new ArrayList<>(parts.values());
  }

  private static int applySessions(Connection c, TableSql sql, List<Row> rows) throws SQLException {
    ViewDefinition view = sql.view;
    String partition = view.partitionColumn();
    Map<Object, List<Row>> batchByUser = new LinkedHashMap<>();
    for (Row r : rows) {
      batchByUser.computeIfAbsent(r.getValue(partition), u -> new ArrayList<>()).add(r);
    }
    lockUsers(c, sql.table, batchByUser.keySet());
    Map<Object, List<Row>> storedByUser = new HashMap<>();
    List<Object> users = new ArrayList<>(batchByUser.keySet());
    for (int from = 0; from < users.size(); from += PARTITIONS_PER_QUERY) {
      List<Object> chunk = users.subList(from, Math.min(users.size(), from + PARTITIONS_PER_QUERY));
      try (PreparedStatement select = c.prepareStatement(sql.selectPartitions(chunk.size()))) {
        for (int i = 0; i < chunk.size(); i++) {
          sql.bindPartition(select, i + 1, chunk.get(i));
        }
        try (ResultSet rs = select.executeQuery()) {
          while (rs.next()) {
            Row r = sql.readRow(rs);
            storedByUser.computeIfAbsent(r.getValue(partition), u -> new ArrayList<>()).add(r);
          }
        }
      }
    }

    // The reference rule, per user: the stored sessions, then the batch in order.
    List<Row> deletes = new ArrayList<>();
    List<Row> inserts = new ArrayList<>();
    for (Map.Entry<Object, List<Row>> e : batchByUser.entrySet()) {
      List<Row> before = storedByUser.getOrDefault(e.getKey(), List.of());
      List<Row> after = new ViewTable(view).applyAll(before).applyAll(e.getValue()).rows();
      Map<List<Object>, Row> beforeByKey = new HashMap<>();
      before.forEach(r -> beforeByKey.put(view.key(r), r));
      Map<List<Object>, Row> afterByKey = new HashMap<>();
      after.forEach(r -> afterByKey.put(view.key(r), r));
      for (Row b : before) {
        Row a = afterByKey.get(view.key(b));
        if (a == null || !RowValues.sameValues(view, a, b)) {
          deletes.add(b);
        }
      }
      for (Row a : after) {
        Row b = beforeByKey.get(view.key(a));
        if (b == null || !RowValues.sameValues(view, a, b)) {
          inserts.add(a);
        }
      }
    }
    executeBatch(c, sql.deleteByKey(), deletes, sql::bindKey);
    executeBatch(c, sql.insert(), inserts, sql::bindRow);
    return inserts.size();
  }

  /**
   * Takes the apply locks of the users' buckets until the transaction ends. Two batches that both
   * read a user's sessions and then insert one must not interleave, or sessions could overlap;
   * SERIALIZABLE would catch that on PostgreSQL but not on H2 (whose serializable level allows
   * write skew through phantoms), so the writers of a session table serialise per bucket of users
   * instead, with plain row locks that both databases honour. Under READ COMMITTED the reads after
   * the lock see everything the previous holder committed.
   */
  private static void lockUsers(Connection c, String table, Set<Object> users) throws SQLException {
    TreeSet<Integer> buckets = new TreeSet<>();
    users.forEach(u -> buckets.add(TableSql.lockBucket(u)));
    int locked = 0;
    try (PreparedStatement ps = c.prepareStatement(TableSql.lockBuckets(buckets.size()))) {
      ps.setString(1, table);
      int i = 2;
      for (int b : buckets) {
        ps.setInt(i++, b);
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          locked++;
        }
      }
    }
    if (locked != buckets.size() && tableNames(c).contains(table)) {
      throw new SQLException(
          "table "
              + table
              + " has no apply locks (was it created by other means?); call createTable for it"
              + " (it is idempotent) to add them");
    }
  }

  private static void createLocks(Connection c, String table) throws SQLException {
    try (Statement st = c.createStatement()) {
      st.execute(TableSql.createLockTable());
    }
    try (PreparedStatement ps = c.prepareStatement(TableSql.insertLockIfMissing())) {
      for (int b = 0; b < TableSql.LOCK_BUCKETS; b++) {
        ps.setString(1, table);
        ps.setInt(2, b);
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  private interface Binder {
    void bind(PreparedStatement ps, Row row) throws SQLException;
  }

  private static void executeBatch(Connection c, String statement, List<Row> rows, Binder binder)
      throws SQLException {
    if (rows.isEmpty()) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement(statement)) {
      int pending = 0;
      for (Row r : rows) {
        binder.bind(ps, r);
        ps.addBatch();
        if (++pending == BATCH_SIZE) {
          ps.executeBatch();
          pending = 0;
        }
      }
      if (pending > 0) {
        ps.executeBatch();
      }
    }
  }

  private static int written(int[] counts) {
    int n = 0;
    for (int c : counts) {
      n += Math.max(c, 0);
    }
    return n;
  }

  // ---------------------------------------------------------------------------------------------
  // Tables

  /** Names of the tables in the connection's current schema. */
  private static Set<String> tableNames(Connection c) throws SQLException {
    Set<String> names = new TreeSet<>();
    DatabaseMetaData md = c.getMetaData();
    try (ResultSet rs = md.getTables(c.getCatalog(), c.getSchema(), null, new String[] {"TABLE"})) {
      while (rs.next()) {
        names.add(rs.getString("TABLE_NAME"));
      }
    }
    return names;
  }

  private static List<String> versionsIn(Set<String> tableNames, ViewDefinition view) {
    String prefix = view.name() + "__";
    List<String> versions = new ArrayList<>();
    for (String name : tableNames) {
      if (name.startsWith(prefix)) {
        String version = name.substring(prefix.length());
        if (VERSION.matcher(version).matches()) {
          versions.add(version);
        }
      }
    }
    versions.sort(NATURAL);
    return versions;
  }

  /** Orders {@code v2} before {@code v10}: runs of digits compare as numbers. */
  static final Comparator<String> NATURAL =
      (a, b) -> {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
          char ca = a.charAt(i);
          char cb = b.charAt(j);
          if (Character.isDigit(ca) && Character.isDigit(cb)) {
            int ei = i;
            while (ei < a.length() && Character.isDigit(a.charAt(ei))) {
              ei++;
            }
            int ej = j;
            while (ej < b.length() && Character.isDigit(b.charAt(ej))) {
              ej++;
            }
            String na = a.substring(i, ei).replaceFirst("^0+(?=.)", "");
            String nb = b.substring(j, ej).replaceFirst("^0+(?=.)", "");
            int c = na.length() != nb.length() ? na.length() - nb.length() : na.compareTo(nb);
            if (c != 0) {
              return c;
            }
            i = ei;
            j = ej;
          } else {
            if (ca != cb) {
              return ca - cb;
            }
            i++;
            j++;
          }
        }
        int c = (a.length() - i) - (b.length() - j);
        return c != 0 ? c : a.compareTo(b);
      };

  /**
   * Runs an operation on a view version's table; if it fails and the table does not exist, says so
   * with the versions that do.
   */
  private <T> T onTable(ViewDefinition view, String version, java.util.function.Supplier<T> op) {
    try {
      return op.get();
    } catch (StoreOutageException e) {
      throw e; // the store is away: asking it about the table would wait out another grace
    } catch (ViewStoreException e) {
      boolean exists;
      try {
        exists = tableExists(view, version);
      } catch (ViewStoreException lookupFailed) {
        e.addSuppressed(lookupFailed);
        throw e;
      }
      if (exists) {
        throw e;
      }
      List<String> known = versions(view);
      throw new ViewStoreException(
          "no table "
              + tableName(view, version)
              + "; known versions: "
              + (known.isEmpty() ? "none" : String.join(", ", known))
              + " (create it with createTable, or pick one of those)",
          e.getCause());
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Connections and transactions

  /**
   * The store keeps one connection open between calls (a sink writes one small transaction per
   * bundle, and opening a connection costs more than the transaction); a connection that failed is
   * dropped and the next call opens a new one. Calls are serialized on this store.
   */
  /** Closes the connection held between calls, if any. The store stays usable. */
  @Override
  public void close() {
    session.close();
  }

  private <T> T withConnection(String what, JdbcSession.Work<T> work) {
    return session.withConnection(what, work);
  }

  /**
   * Runs {@code work} in one transaction at {@code isolation} and commits it; retries it from
   * scratch, with jittered exponential backoff, when the database aborted it for a conflict with a
   * concurrent transaction, or on a new connection when the old one was lost (see the class doc).
   */
  private <T> T inTransaction(String what, int isolation, JdbcSession.Work<T> work) {
    return session.inTransaction(what, isolation, work);
  }
}
