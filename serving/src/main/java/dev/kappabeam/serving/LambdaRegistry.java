package dev.kappabeam.serving;

import static dev.kappabeam.serving.TableSql.q;

import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.Views;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.beam.sdk.values.Row;

/**
 * The Lambda side of the serving registry: cutoffs, the live (batch, speed) pair of each view, and
 * the merged SQL view {@code <view>_lambda}.
 *
 * <ul>
 *   <li>{@code kb_lambda_cutoffs} (PK view_name, cutoff_id): topic, the per-partition end offsets
 *       the batch run read up to ({@code 0:1200,1:980,...}, exclusive), the requested point ({@code
 *       now} or an instant), the session gap of the run, status {@code building|done|failed},
 *       created_at, completed_at. Cutoff N's batch table is version {@code lambda_b<N>} and the
 *       speed table that continues it is {@code lambda_s<N>} (read from the same offsets on).
 *   <li>{@code kb_lambda_live} (PK view_name): cutoff_id, batch_version, speed_version,
 *       switched_at, covered (the versions the SQL view's text names).
 * </ul>
 *
 * <p><b>Rebase.</b> {@link #rebase} switches readers from (batch N-1, speed N-1) to (batch N, speed
 * N) by updating the pointer row in one transaction, and in the same transaction retires speed N-1
 * in the view registry (its job stops on its next heartbeat). The SQL view reads the pointer row in
 * a join, like the Kappa alias ({@link ViewRegistry}): DDL runs only when the set of covered tables
 * grows, before the switch, and never changes the rows; so a reader sees either the old pair or the
 * new pair, never a mix. Speed N starts at cutoff N's offsets, so it never holds an event of batch
 * N: nothing is filtered, nothing counted twice.
 *
 * <p><b>The SQL view</b> {@code <view>_lambda} has the view's columns. {@code item_revenue_hourly}
 * and {@code user_sessions} (sessions joined across the cutoff with window functions, gap of the
 * cutoff's run) are exact. {@code activity_per_minute}: events and revenue_cents are exact;
 * distinct_users is exact for keys on one side of the cutoff and NULL for keys on both sides, where
 * the exact value needs the union of the two user sets, which {@link #read} computes in Java.
 */
public final class LambdaRegistry implements AutoCloseable {
  static final String CUTOFFS = "kb_lambda_cutoffs";
  static final String LIVE = "kb_lambda_live";

  public static final String BUILDING = "building";
  public static final String DONE = "done";
  public static final String FAILED = "failed";

  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(LambdaRegistry.class);

  private final StoreConfig config;
  private final JdbcSession session;
  private volatile boolean schemaReady;

  public LambdaRegistry(StoreConfig config) {
    this.config = config;
    this.session = new JdbcSession(config, LOG);
  }

  /** One cutoff of a view: what its batch run read, and the tables that belong to it. */
  public record Cutoff(
      String view,
      long id,
      String topic,
      Map<Integer, Long> offsets,
      String point,
      long sessionGapMillis,
      String status,
      Instant createdAt,
      Instant completedAt) {
    public String batchVersion() {
      return batchVersion(id);
    }

    public String speedVersion() {
      return speedVersion(id);
    }

    public static String batchVersion(long id) {
      return "lambda_b" + id;
    }

    public static String speedVersion(long id) {
      return "lambda_s" + id;
    }

    /** {@code 0:1200,1:980} (the {@code --stopOffsets} syntax). */
    public String offsetsText() {
      return formatOffsets(offsets);
    }

    public long totalRecords() {
      return offsets.values().stream().mapToLong(Long::longValue).sum();
    }
  }

  /** What readers of {@code <view>_lambda} see now. */
  public record Live(
      String view, long cutoffId, String batchVersion, String speedVersion, Instant switchedAt) {}

  public static String formatOffsets(Map<Integer, Long> offsets) {
    return new TreeMap<>(offsets)
        .entrySet().stream()
            .map(e -> e.getKey() + ":" + e.getValue())
            .collect(Collectors.joining(","));
  }

  static Map<Integer, Long> parseOffsets(String text) {
    Map<Integer, Long> out = new TreeMap<>();
    if (text != null && !text.isBlank()) {
      for (String pair : text.split(",")) {
        String[] kv = pair.split(":");
        out.put(Integer.parseInt(kv[0].strip()), Long.parseLong(kv[1].strip()));
      }
    }
    return out;
  }

  /** The name of a view's merged SQL view. */
  public static String sqlViewName(ViewDefinition view) {
    return view.name() + "_lambda";
  }

  public synchronized void ensureSchema() {
    if (schemaReady) {
      return;
    }
    for (int attempt = 1; ; attempt++) {
      try {
        createSchema();
        break;
      } catch (ViewStoreException e) {
        // Two processes creating the tables at once on PostgreSQL: the loser retries.
        if (attempt >= 3
            || !(e.getCause() instanceof SQLException)
            || !SqlStates.any((SQLException) e.getCause(), SqlStates.CONCURRENT_CREATE)) {
          throw e;
        }
      }
    }
    schemaReady = true;
  }

  private void createSchema() {
    String ts = " TIMESTAMP WITH TIME ZONE";
    run(
        "create the Lambda registry",
        c -> {
          c.setAutoCommit(true);
          try (Statement st = c.createStatement()) {
            st.execute(
                "CREATE TABLE IF NOT EXISTS "
                    + q(CUTOFFS)
                    + " ("
                    + q("view_name")
                    + " VARCHAR NOT NULL, "
                    + q("cutoff_id")
                    + " BIGINT NOT NULL, "
                    + q("topic")
                    + " VARCHAR NOT NULL, "
                    + q("offsets")
                    + " VARCHAR NOT NULL, "
                    + q("point")
                    + " VARCHAR, "
                    + q("session_gap_ms")
                    + " BIGINT NOT NULL, "
                    + q("status")
                    + " VARCHAR NOT NULL, "
                    + q("created_at")
                    + ts
                    + ", "
                    + q("completed_at")
                    + ts
                    + ", PRIMARY KEY ("
                    + q("view_name")
                    + ", "
                    + q("cutoff_id")
                    + "))");
            st.execute(
                "CREATE TABLE IF NOT EXISTS "
                    + q(LIVE)
                    + " ("
                    + q("view_name")
                    + " VARCHAR NOT NULL PRIMARY KEY, "
                    + q("cutoff_id")
                    + " BIGINT NOT NULL, "
                    + q("batch_version")
                    + " VARCHAR NOT NULL, "
                    + q("speed_version")
                    + " VARCHAR NOT NULL, "
                    + q("switched_at")
                    + ts
                    + ", "
                    + q("covered")
                    + " VARCHAR)");
          }
          return null;
        });
  }

  /**
   * Records a new cutoff (status building) for these views, with one id for all of them (the next
   * after every cutoff recorded so far), so one batch run builds all their tables.
   */
  public long newCutoff(
      List<String> views,
      String topic,
      Map<Integer, Long> offsets,
      String point,
      long sessionGapMillis) {
    ensureSchema();
    Instant now = Instant.now();
    return inTransaction(
        "record a cutoff of " + String.join(", ", views),
        c -> {
          long next;
          try (Statement st = c.createStatement();
              ResultSet rs =
                  st.executeQuery(
                      "SELECT COALESCE(MAX(" + q("cutoff_id") + "), 0) + 1 FROM " + q(CUTOFFS))) {
            rs.next();
            next = rs.getLong(1);
          }
          for (String view : views) {
            try (PreparedStatement ps =
                c.prepareStatement(
                    "INSERT INTO "
                        + q(CUTOFFS)
                        + " ("
                        + q("view_name")
                        + ", "
                        + q("cutoff_id")
                        + ", "
                        + q("topic")
                        + ", "
                        + q("offsets")
                        + ", "
                        + q("point")
                        + ", "
                        + q("session_gap_ms")
                        + ", "
                        + q("status")
                        + ", "
                        + q("created_at")
                        + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
              ps.setString(1, view);
              ps.setLong(2, next);
              ps.setString(3, topic);
              ps.setString(4, formatOffsets(offsets));
              ps.setString(5, point);
              ps.setLong(6, sessionGapMillis);
              ps.setString(7, BUILDING);
              ps.setTimestamp(8, Timestamp.from(now));
              ps.executeUpdate();
            }
          }
          return next;
        });
  }

  /** A new cutoff of one view. */
  public Cutoff newCutoff(
      String view, String topic, Map<Integer, Long> offsets, String point, long sessionGapMillis) {
    long id = newCutoff(List.of(view), topic, offsets, point, sessionGapMillis);
    return cutoff(view, id).orElseThrow();
  }

  /** The batch run of a cutoff ended: {@link #DONE} or {@link #FAILED}. */
  public void batchEnded(String view, long id, String status) {
    ensureSchema();
    inTransaction(
        "record the end of batch " + id,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE "
                      + q(CUTOFFS)
                      + " SET "
                      + q("status")
                      + " = ?, "
                      + q("completed_at")
                      + " = ? WHERE "
                      + q("view_name")
                      + " = ? AND "
                      + q("cutoff_id")
                      + " = ?")) {
            ps.setString(1, status);
            ps.setTimestamp(2, Timestamp.from(Instant.now()));
            ps.setString(3, view);
            ps.setLong(4, id);
            ps.executeUpdate();
          }
          return null;
        });
  }

  public Optional<Cutoff> cutoff(String view, long id) {
    return cutoffs(view).stream().filter(c -> c.id() == id).findFirst();
  }

  /** The newest cutoff whose batch run completed. */
  public Optional<Cutoff> latestBatch(String view) {
    List<Cutoff> all = cutoffs(view);
    for (int i = all.size() - 1; i >= 0; i--) {
      if (DONE.equals(all.get(i).status())) {
        return Optional.of(all.get(i));
      }
    }
    return Optional.empty();
  }

  /** Every cutoff of a view, oldest first. */
  public List<Cutoff> cutoffs(String view) {
    ensureSchema();
    return inTransaction(
        "read the cutoffs of " + view,
        c -> {
          List<Cutoff> out = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT "
                      + q("cutoff_id")
                      + ", "
                      + q("topic")
                      + ", "
                      + q("offsets")
                      + ", "
                      + q("point")
                      + ", "
                      + q("session_gap_ms")
                      + ", "
                      + q("status")
                      + ", "
                      + q("created_at")
                      + ", "
                      + q("completed_at")
                      + " FROM "
                      + q(CUTOFFS)
                      + " WHERE "
                      + q("view_name")
                      + " = ? ORDER BY "
                      + q("cutoff_id"))) {
            ps.setString(1, view);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(
                    new Cutoff(
                        view,
                        rs.getLong(1),
                        rs.getString(2),
                        parseOffsets(rs.getString(3)),
                        rs.getString(4),
                        rs.getLong(5),
                        rs.getString(6),
                        instant(rs.getTimestamp(7)),
                        instant(rs.getTimestamp(8))));
              }
            }
          }
          return out;
        });
  }

  public Optional<Live> live(String view) {
    ensureSchema();
    return inTransaction("read the Lambda pointer of " + view, c -> readLive(c, view));
  }

  /**
   * Makes cutoff N's batch and speed tables what readers see, atomically; retires the speed version
   * they replace (its job stops). Call it once speed N has caught up with the log. Never goes back:
   * if a newer cutoff is live already, nothing changes and the live pair is returned.
   */
  public Live rebase(ViewDefinition view, Cutoff cutoff) {
    ensureSchema();
    if (!DONE.equals(cutoff.status())) {
      throw new RegistryException(
          "cutoff " + cutoff.id() + " of " + view.name() + " has no completed batch run");
    }
    // DDL first (it may commit on H2): it adds tables to the SQL view's text, the pointer row
    // still decides which of them are read.
    Set<String> covered = new LinkedHashSet<>(covered(view.name()));
    boolean grows = covered.add(cutoff.batchVersion()) | covered.add(cutoff.speedVersion());
    if (grows || !sqlViewExists(view)) {
      run(
          "define " + sqlViewName(view),
          c -> {
            c.setAutoCommit(true);
            try (Statement st = c.createStatement()) {
              st.execute(lambdaSql(view, List.copyOf(covered), cutoff.sessionGapMillis()));
            }
            return null;
          });
    }
    Instant now = Instant.now();
    return inTransaction(
        "rebase " + view.name() + " on cutoff " + cutoff.id(),
        c -> {
          Optional<Live> before = readLive(c, view.name());
          if (before.isPresent() && before.get().cutoffId() > cutoff.id()) {
            // A speed job of an older cutoff caught up late: readers never go back.
            return before.get();
          }
          try (PreparedStatement del =
              c.prepareStatement("DELETE FROM " + q(LIVE) + " WHERE " + q("view_name") + " = ?")) {
            del.setString(1, view.name());
            del.executeUpdate();
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO "
                      + q(LIVE)
                      + " ("
                      + q("view_name")
                      + ", "
                      + q("cutoff_id")
                      + ", "
                      + q("batch_version")
                      + ", "
                      + q("speed_version")
                      + ", "
                      + q("switched_at")
                      + ", "
                      + q("covered")
                      + ") VALUES (?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, view.name());
            ps.setLong(2, cutoff.id());
            ps.setString(3, cutoff.batchVersion());
            ps.setString(4, cutoff.speedVersion());
            ps.setTimestamp(5, Timestamp.from(now));
            ps.setString(6, String.join(",", covered));
            ps.executeUpdate();
          }
          if (before.isPresent() && !before.get().speedVersion().equals(cutoff.speedVersion())) {
            retire(c, view.name(), before.get().speedVersion(), now);
          }
          return new Live(
              view.name(), cutoff.id(), cutoff.batchVersion(), cutoff.speedVersion(), now);
        });
  }

  /**
   * The merged view, exact: the batch and speed tables the pointer names (read in one pass each),
   * merged per key by {@link LambdaViews#merge}. Rows of the view's own schema, sorted by key.
   */
  public List<Row> read(ViewStore store, ViewDefinition view) {
    Live live =
        live(view.name())
            .orElseThrow(
                () ->
                    new RegistryException(
                        "view "
                            + view.name()
                            + " has no Lambda deployment yet; run kb batch then kb speed"));
    Cutoff cutoff = cutoff(view.name(), live.cutoffId()).orElseThrow();
    ViewDefinition partial = Views.lambdaPartial(view);
    List<Row> batch = store.readAll(partial, live.batchVersion());
    List<Row> speed =
        store.tableExists(partial, live.speedVersion())
            ? store.readAll(partial, live.speedVersion())
            : List.of();
    return LambdaViews.merge(view, batch, speed, cutoff.sessionGapMillis());
  }

  /** The first rows of the merged view, the pair they were read from, and whether more follow. */
  public record Page(Live live, List<Row> rows, boolean truncated) {}

  /**
   * The first {@code limit} rows of the merged view in the database's key order (as a reader of
   * {@code <view>_lambda} ordering by the key sees them), or empty if the view has no Lambda
   * deployment. The LIMIT runs in the database, so memory grows with {@code limit}, not with the
   * view: the SQL view merges batch and speed, and the {@code activity_per_minute} rows of keys on
   * both sides (where the SQL view has no distinct_users) are merged again exactly by {@link
   * LambdaViews#merge} from the partial rows of their minutes. Pointer and rows are read in one
   * repeatable-read transaction, so they belong together; every statement is cancelled after {@code
   * queryTimeout}.
   */
  public Optional<Page> readPage(ViewDefinition view, int limit, java.time.Duration queryTimeout) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be at least 1, got " + limit);
    }
    int timeoutSeconds = (int) Math.max(1, Math.min(Integer.MAX_VALUE, queryTimeout.toSeconds()));
    ensureSchema();
    return inTransaction(
        "read the first " + limit + " rows of " + sqlViewName(view),
        Connection.TRANSACTION_REPEATABLE_READ,
        c -> {
          Optional<Live> live = readLive(c, view.name());
          if (live.isEmpty()) {
            return Optional.empty();
          }
          TableSql merged = new TableSql(view, sqlViewName(view));
          List<String> names = view.schema().getFieldNames();
          boolean activity = view.name().equals(Views.ACTIVITY_PER_MINUTE.name());
          // activity_per_minute: distinct_users is NULL for keys on both sides of the cutoff; read
          // as 0 and flagged in one more column, those rows are merged again below.
          String columns =
              names.stream()
                  .map(
                      col ->
                          activity && col.equals("distinct_users")
                              ? "COALESCE(" + q(col) + ", 0) AS " + q(col)
                              : q(col))
                  .collect(Collectors.joining(", "));
          String bothSidesFlag =
              activity ? ", CASE WHEN " + q("distinct_users") + " IS NULL THEN 1 ELSE 0 END" : "";
          String order =
              view.keyColumns().stream().map(TableSql::q).collect(Collectors.joining(", "));
          List<Row> rows = new ArrayList<>();
          Set<Integer> bothSides = new java.util.HashSet<>();
          boolean truncated = false;
          // One more than asked, to tell whether rows were cut off.
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT "
                      + columns
                      + bothSidesFlag
                      + " FROM "
                      + q(sqlViewName(view))
                      + " ORDER BY "
                      + order
                      + " LIMIT "
                      + (limit + 1L))) {
            ps.setQueryTimeout(timeoutSeconds);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                if (rows.size() == limit) {
                  truncated = true;
                  break;
                }
                if (activity && rs.getInt(names.size() + 1) == 1) {
                  bothSides.add(rows.size());
                }
                rows.add(merged.readRow(rs));
              }
            }
          }
          if (!bothSides.isEmpty()) {
            completeDistinctUsers(c, view, live.get(), rows, bothSides, timeoutSeconds);
          }
          return Optional.of(new Page(live.get(), rows, truncated));
        });
  }

  /**
   * Replaces the activity rows of keys on both sides of the cutoff ({@code bothSides}, indexes into
   * {@code page}; the SQL view leaves their distinct_users NULL) with the exact merge of their
   * partial rows, read for the minutes those rows span only.
   */
  private static void completeDistinctUsers(
      Connection c,
      ViewDefinition view,
      Live live,
      List<Row> page,
      Set<Integer> bothSides,
      int timeoutSeconds)
      throws SQLException {
    // The page is in key order, window_start first: its first and last such row bound the minutes.
    int firstIndex = java.util.Collections.min(bothSides);
    int lastIndex = java.util.Collections.max(bothSides);
    Object first = page.get(firstIndex).getValue("window_start");
    Object last = page.get(lastIndex).getValue("window_start");
    ViewDefinition partial = Views.lambdaPartial(view);
    List<List<Row>> sides = new ArrayList<>();
    for (String version : List.of(live.batchVersion(), live.speedVersion())) {
      TableSql sql = new TableSql(partial, ViewStore.tableName(partial, version));
      List<Row> rows = new ArrayList<>();
      try (PreparedStatement ps =
          c.prepareStatement(
              sql.selectAll()
                  + " WHERE "
                  + q("window_start")
                  + " >= ? AND "
                  + q("window_start")
                  + " <= ?")) {
        ps.setQueryTimeout(timeoutSeconds);
        sql.bindColumn(ps, 1, "window_start", first);
        sql.bindColumn(ps, 2, "window_start", last);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            rows.add(sql.readRow(rs));
          }
        }
      }
      sides.add(rows);
    }
    // The session gap plays no part in the activity merge.
    Map<List<Object>, Row> exact = new java.util.HashMap<>();
    for (Row r : LambdaViews.merge(view, sides.get(0), sides.get(1), 0L)) {
      exact.put(view.key(r), r);
    }
    for (int i : bothSides) {
      Row r = page.get(i);
      Row merged = exact.get(view.key(r));
      if (merged == null) {
        // Cannot happen within one repeatable-read snapshot; say so rather than serve a 0.
        throw new IllegalStateException(
            "no partial rows of " + view.name() + " " + view.key(r) + " in the live pair");
      }
      page.set(i, merged);
    }
  }

  /** The SQL of {@code <view>_lambda} over these candidate versions (see the class comment). */
  static String lambdaSql(ViewDefinition view, List<String> versions, long sessionGapMillis) {
    ViewDefinition partial = Views.lambdaPartial(view);
    String parts =
        "SELECT "
            + TableSql.qualifiedColumns(partial, "t")
            + " FROM "
            + q(LIVE)
            + " a JOIN ("
            + TableSql.versionsUnion(partial, versions)
            + ") t ON (t."
            + q("kb_version")
            + " = a."
            + q("batch_version")
            + " OR t."
            + q("kb_version")
            + " = a."
            + q("speed_version")
            + ") WHERE a."
            + q("view_name")
            + " = '"
            + view.name()
            + "'";
    String select;
    if (view.name().equals(Views.ACTIVITY_PER_MINUTE.name())) {
      select =
          "SELECT p."
              + q("window_start")
              + ", p."
              + q("type")
              + ", "
              + sum("p", "events")
              + ", CASE WHEN COUNT(*) = 1 THEN MAX(p."
              + q("distinct_users")
              + ") END AS "
              + q("distinct_users")
              + ", "
              + sum("p", "revenue_cents")
              + " FROM ("
              + parts
              + ") p GROUP BY p."
              + q("window_start")
              + ", p."
              + q("type");
    } else {
      Map<String, ViewDefinition.Merge> rules =
          view.mergeRules()
              .orElseThrow(
                  () -> new IllegalArgumentException("no Lambda merge rules for " + view.name()));
      select =
          view.kind() == ViewDefinition.Kind.SESSION
              ? sessionsSql(view, rules, parts, sessionGapMillis)
              : keyedSql(view, rules, parts);
    }
    return "CREATE OR REPLACE VIEW " + q(sqlViewName(view)) + " AS " + select;
  }

  private static String sum(String alias, String col) {
    return "CAST(SUM(" + alias + "." + q(col) + ") AS BIGINT) AS " + q(col);
  }

  /** A ruled column's aggregate over the partial rows {@code alias}. */
  private static String merged(String alias, String col, ViewDefinition.Merge rule) {
    switch (rule) {
      case SUM:
        return sum(alias, col);
      case MIN:
        return "MIN(" + alias + "." + q(col) + ") AS " + q(col);
      default:
        return "MAX(" + alias + "." + q(col) + ") AS " + q(col);
    }
  }

  /** A keyed view: the partial rows grouped by key, each ruled column aggregated. */
  private static String keyedSql(
      ViewDefinition view, Map<String, ViewDefinition.Merge> rules, String parts) {
    List<String> columns = new ArrayList<>();
    List<String> keys = new ArrayList<>();
    for (String c : view.schema().getFieldNames()) {
      if (view.keyColumns().contains(c)) {
        columns.add("p." + q(c));
        keys.add("p." + q(c));
      } else {
        columns.add(merged("p", c, rules.get(c)));
      }
    }
    return "SELECT "
        + String.join(", ", columns)
        + " FROM ("
        + parts
        + ") p GROUP BY "
        + String.join(", ", keys);
  }

  /**
   * A session view: per key, the partial sessions ordered by span; a session starts a new island
   * unless it starts before the previous spans' end plus the gap; each island is one row, its span
   * the union, its ruled columns aggregated.
   */
  private static String sessionsSql(
      ViewDefinition view, Map<String, ViewDefinition.Merge> rules, String parts, long gapMillis) {
    String key = view.partitionColumn();
    String start = view.spanStartColumn();
    String end = view.spanEndColumn();
    String byKey = " OVER (PARTITION BY " + q(key) + " ORDER BY " + q(start) + ", " + q(end);
    String gap =
        String.format(java.util.Locale.ROOT, "%d.%03d", gapMillis / 1000, gapMillis % 1000);
    List<String> columns = new ArrayList<>();
    for (String c : view.schema().getFieldNames()) {
      if (c.equals(key)) {
        columns.add("z." + q(c));
      } else if (c.equals(start)) {
        columns.add("MIN(z." + q(c) + ") AS " + q(c));
      } else if (c.equals(end)) {
        columns.add("MAX(z." + q(c) + ") AS " + q(c));
      } else {
        columns.add(merged("z", c, rules.get(c)));
      }
    }
    return "SELECT "
        + String.join(", ", columns)
        + " FROM (SELECT y.*, SUM(y."
        + q("kb_new")
        + ")"
        + byKey
        + " ROWS UNBOUNDED PRECEDING) AS "
        + q("kb_island")
        + " FROM (SELECT x.*, CASE WHEN x."
        + q("kb_prev_end")
        + " IS NOT NULL AND x."
        + q(start)
        + " < x."
        + q("kb_prev_end")
        + " + INTERVAL '"
        + gap
        + "' SECOND THEN 0 ELSE 1 END AS "
        + q("kb_new")
        + " FROM (SELECT p.*, MAX(p."
        + q(end)
        + ")"
        + byKey
        + " ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS "
        + q("kb_prev_end")
        + " FROM ("
        + parts
        + ") p) x) y) z GROUP BY z."
        + q(key)
        + ", z."
        + q("kb_island");
  }

  private List<String> covered(String view) {
    return live(view)
        .map(
            l ->
                inTransaction(
                    "read the covered versions of " + view,
                    c -> {
                      try (PreparedStatement ps =
                          c.prepareStatement(
                              "SELECT "
                                  + q("covered")
                                  + " FROM "
                                  + q(LIVE)
                                  + " WHERE "
                                  + q("view_name")
                                  + " = ?")) {
                        ps.setString(1, view);
                        try (ResultSet rs = ps.executeQuery()) {
                          String text = rs.next() ? rs.getString(1) : null;
                          return text == null || text.isEmpty()
                              ? List.<String>of()
                              : List.of(text.split(","));
                        }
                      }
                    }))
        .orElse(List.of());
  }

  private boolean sqlViewExists(ViewDefinition view) {
    return run(
        "look up " + sqlViewName(view),
        c -> {
          try (ResultSet rs =
              c.getMetaData()
                  .getTables(
                      c.getCatalog(), c.getSchema(), sqlViewName(view), new String[] {"VIEW"})) {
            return rs.next();
          }
        });
  }

  private static Optional<Live> readLive(Connection c, String view) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT "
                + q("cutoff_id")
                + ", "
                + q("batch_version")
                + ", "
                + q("speed_version")
                + ", "
                + q("switched_at")
                + " FROM "
                + q(LIVE)
                + " WHERE "
                + q("view_name")
                + " = ?")) {
      ps.setString(1, view);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        return Optional.of(
            new Live(
                view,
                rs.getLong(1),
                rs.getString(2),
                rs.getString(3),
                instant(rs.getTimestamp(4))));
      }
    }
  }

  /** Marks a replaced speed version retired in the view registry, so its job stops. */
  private static void retire(Connection c, String view, String version, Instant now)
      throws SQLException {
    // A savepoint: on PostgreSQL a failed statement aborts the whole transaction, and its commit
    // would then silently roll back the rebase itself.
    java.sql.Savepoint beforeRetire = c.setSavepoint();
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE "
                + q(ViewRegistry.VERSIONS)
                + " SET "
                + q("status")
                + " = ?, "
                + q("retired_at")
                + " = ? WHERE "
                + q("view_name")
                + " = ? AND "
                + q("version")
                + " = ? AND "
                + q("status")
                + " IN (?, ?)")) {
      ps.setString(1, RegisteredVersion.Status.RETIRED.sql());
      ps.setTimestamp(2, Timestamp.from(now));
      ps.setString(3, view);
      ps.setString(4, version);
      ps.setString(5, RegisteredVersion.Status.BUILDING.sql());
      ps.setString(6, RegisteredVersion.Status.LIVE.sql());
      ps.executeUpdate();
      c.releaseSavepoint(beforeRetire);
    } catch (SQLException e) {
      c.rollback(beforeRetire);
      // 42S02/42P01: no view registry table (no version was ever registered): nothing to stop.
      if (!SqlStates.any(e, SqlStates.MISSING_TABLE)) {
        throw e;
      }
    }
  }

  private static Instant instant(Timestamp t) {
    return t == null ? null : t.toInstant();
  }

  /** Runs {@code work} outside a transaction, riding out an outage for the store's grace. */
  private <T> T run(String what, JdbcSession.Work<T> work) {
    return session.withConnection(what, work);
  }

  private <T> T inTransaction(String what, JdbcSession.Work<T> work) {
    return session.inTransaction(what, work);
  }

  private <T> T inTransaction(String what, int isolation, JdbcSession.Work<T> work) {
    return session.inTransaction(what, isolation, work);
  }

  @Override
  public void close() {
    session.close();
  }
}
