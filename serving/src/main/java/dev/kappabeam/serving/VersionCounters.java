package dev.kappabeam.serving;

import static dev.kappabeam.serving.TableSql.q;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The job counters of each view version (records read, accepted, dead-lettered, duplicates removed,
 * late...), published by the process that hosts the job and read by {@code kb serve} for its
 * metrics and its page.
 *
 * <p><b>Table.</b> {@code kb_version_counters(view_name, version, counter, value, updated_at)},
 * primary key (view_name, version, counter), in the serving database next to the registry. A row
 * holds the counter's latest value as the job reported it: the values are the job's cumulative Beam
 * counters since the job started, so they only grow while one job runs and start again from 0 when
 * a version's job is restarted (a counter reset, as Prometheus understands it).
 *
 * <p><b>Writes</b> ({@link #publish}) are upserts (standard SQL {@code MERGE}, PostgreSQL 15+ and
 * H2), one transaction per call, so a reader sees either all counters of a publish or none of them;
 * publishing the same values again changes only {@code updated_at}. A concurrent first insert of
 * the same key by another process is retried.
 *
 * <pre>{@code
 * VersionCounters counters = new VersionCounters(storeConfig);
 * counters.publish(registeredVersions, RunCounters.of(result, true));  // every progress tick
 * Map<String, Long> v2 = counters.read("activity_per_minute", "v2").values();
 * }</pre>
 */
public final class VersionCounters implements AutoCloseable {
  static final String TABLE = "kb_version_counters";

  private static final Pattern COUNTER = Pattern.compile("[a-z][a-z0-9_]*");

  private final JdbcSession session;
  private boolean schemaReady;

  public VersionCounters(StoreConfig config) {
    this.session =
        new JdbcSession(
            Objects.requireNonNull(config, "config"),
            org.slf4j.LoggerFactory.getLogger(VersionCounters.class));
  }

  /** The counters of one view version and when they were last published. */
  public record Snapshot(String view, String version, Map<String, Long> values, Instant updatedAt) {
    /** The value of a counter, 0 if it was never published. */
    public long get(String counter) {
      return values.getOrDefault(counter, 0L);
    }
  }

  /** Creates the table unless it exists. Every other method calls it first. */
  public synchronized void ensureSchema() {
    if (schemaReady) {
      return;
    }
    String sql =
        "CREATE TABLE IF NOT EXISTS "
            + q(TABLE)
            + " ("
            + q("view_name")
            + " VARCHAR NOT NULL, "
            + q("version")
            + " VARCHAR NOT NULL, "
            + q("counter")
            + " VARCHAR NOT NULL, "
            + q("value")
            + " BIGINT NOT NULL, "
            + q("updated_at")
            + " TIMESTAMP WITH TIME ZONE NOT NULL, PRIMARY KEY ("
            + q("view_name")
            + ", "
            + q("version")
            + ", "
            + q("counter")
            + "))";
    session.create(TABLE, sql);
    schemaReady = true;
  }

  /**
   * Publishes a job's counters for each view version it builds (a {@code kb run} job may build
   * several views; they share the job's counters), in one transaction, stamped now.
   *
   * @param counters counter name ({@code [a-z][a-z0-9_]*}, e.g. {@code read}) to its cumulative
   *     value since the job started
   * @throws IllegalArgumentException for a bad counter name or a negative value
   */
  public void publish(List<RegisteredVersion> versions, Map<String, Long> counters) {
    List<String[]> keys = new ArrayList<>();
    for (RegisteredVersion v : versions) {
      keys.add(new String[] {v.view(), v.version()});
    }
    publish(keys, counters, Instant.ofEpochMilli(System.currentTimeMillis()));
  }

  /** {@link #publish(List, Map)} for one view version, stamped {@code at}. */
  public void publish(String view, String version, Map<String, Long> counters, Instant at) {
    publish(List.<String[]>of(new String[] {view, version}), counters, at);
  }

  private void publish(List<String[]> keys, Map<String, Long> counters, Instant at) {
    counters.forEach(
        (name, value) -> {
          if (name == null || !COUNTER.matcher(name).matches()) {
            throw new IllegalArgumentException(
                "counter name '" + name + "' must be lower-case letters, digits and _ (e.g. read)");
          }
          if (value == null || value < 0) {
            throw new IllegalArgumentException(
                "counter " + name + " must be a non-negative count, got " + value);
          }
        });
    if (keys.isEmpty() || counters.isEmpty()) {
      return;
    }
    String merge =
        "MERGE INTO "
            + q(TABLE)
            + " AS t USING (VALUES (CAST(? AS VARCHAR), CAST(? AS VARCHAR), CAST(? AS VARCHAR),"
            + " CAST(? AS BIGINT), CAST(? AS TIMESTAMP WITH TIME ZONE))) AS s ("
            + q("view_name")
            + ", "
            + q("version")
            + ", "
            + q("counter")
            + ", "
            + q("value")
            + ", "
            + q("updated_at")
            + ") ON t."
            + q("view_name")
            + " = s."
            + q("view_name")
            + " AND t."
            + q("version")
            + " = s."
            + q("version")
            + " AND t."
            + q("counter")
            + " = s."
            + q("counter")
            + " WHEN MATCHED THEN UPDATE SET "
            + q("value")
            + " = s."
            + q("value")
            + ", "
            + q("updated_at")
            + " = s."
            + q("updated_at")
            + " WHEN NOT MATCHED THEN INSERT ("
            + q("view_name")
            + ", "
            + q("version")
            + ", "
            + q("counter")
            + ", "
            + q("value")
            + ", "
            + q("updated_at")
            + ") VALUES (s."
            + q("view_name")
            + ", s."
            + q("version")
            + ", s."
            + q("counter")
            + ", s."
            + q("value")
            + ", s."
            + q("updated_at")
            + ")";
    OffsetDateTime stamp = OffsetDateTime.ofInstant(at, ZoneOffset.UTC);
    inTransaction(
        "publish counters",
        c -> {
          try (PreparedStatement ps = c.prepareStatement(merge)) {
            for (String[] key : keys) {
              // Sorted, so two publishers of one version lock its rows in the same order.
              for (Map.Entry<String, Long> e : new java.util.TreeMap<>(counters).entrySet()) {
                ps.setString(1, key[0]);
                ps.setString(2, key[1]);
                ps.setString(3, e.getKey());
                ps.setLong(4, e.getValue());
                ps.setObject(5, stamp);
                ps.addBatch();
              }
            }
            ps.executeBatch();
          }
          return null;
        });
  }

  /** Every published snapshot, by view and version (v2 before v10). */
  public List<Snapshot> readAll() {
    return inTransaction(
        "read " + TABLE,
        c -> {
          Map<List<String>, Map<String, Long>> values = new LinkedHashMap<>();
          Map<List<String>, Instant> updated = new LinkedHashMap<>();
          try (Statement st = c.createStatement();
              ResultSet rs =
                  st.executeQuery(
                      "SELECT "
                          + q("view_name")
                          + ", "
                          + q("version")
                          + ", "
                          + q("counter")
                          + ", "
                          + q("value")
                          + ", "
                          + q("updated_at")
                          + " FROM "
                          + q(TABLE)
                          + " ORDER BY "
                          + q("view_name")
                          + ", "
                          + q("version")
                          + ", "
                          + q("counter"))) {
            while (rs.next()) {
              List<String> key = List.of(rs.getString(1), rs.getString(2));
              values
                  .computeIfAbsent(key, k -> new LinkedHashMap<>())
                  .put(rs.getString(3), rs.getLong(4));
              Instant at = rs.getObject(5, OffsetDateTime.class).toInstant();
              updated.merge(key, at, (a, b) -> a.isAfter(b) ? a : b);
            }
          }
          List<Snapshot> out = new ArrayList<>();
          values.forEach(
              (key, v) ->
                  out.add(new Snapshot(key.get(0), key.get(1), Map.copyOf(v), updated.get(key))));
          out.sort(
              (a, b) -> {
                int byView = a.view().compareTo(b.view());
                return byView != 0 ? byView : ViewStore.NATURAL.compare(a.version(), b.version());
              });
          return out;
        });
  }

  /** The snapshot of one view version; empty values and a null time if none was published. */
  public Snapshot read(String view, String version) {
    return readAll().stream()
        .filter(s -> s.view().equals(view) && s.version().equals(version))
        .findFirst()
        .orElse(new Snapshot(view, version, Map.of(), null));
  }

  /** Deletes a version's counters (when its version is dropped). Returns how many rows went. */
  public int delete(String view, String version) {
    return inTransaction(
        "delete the counters of " + view + " " + version,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "DELETE FROM "
                      + q(TABLE)
                      + " WHERE "
                      + q("view_name")
                      + " = ? AND "
                      + q("version")
                      + " = ?")) {
            ps.setString(1, view);
            ps.setString(2, version);
            return ps.executeUpdate();
          }
        });
  }

  // ---------------------------------------------------------------------------------------------

  @Override
  public void close() {
    session.close();
  }

  private <T> T inTransaction(String what, JdbcSession.Work<T> work) {
    ensureSchema();
    return session.inTransaction(what, work);
  }
}
