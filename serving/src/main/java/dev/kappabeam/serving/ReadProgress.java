package dev.kappabeam.serving;

import static dev.kappabeam.serving.TableSql.q;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * How far a running job has read each partition of its topic, written by the job itself as it
 * reads, so a controller ({@code kb reprocess}, {@code kb speed}), {@code kb status} and {@code kb
 * serve} see live progress on every runner, including those whose Beam metrics arrive only when the
 * job ends (Flink, the portable runner) and jobs on a remote cluster.
 *
 * <p><b>Table.</b> {@code kb_read_progress(consumer_group, topic, partition_id, run_id,
 * next_offset, records, updated_at)}, primary key (consumer_group, topic, partition_id), next to
 * the registry. {@code next_offset} is one past the highest offset the run has read in the
 * partition (a high-water mark: a bundle that finishes late never moves it back); {@code records}
 * counts the records the run read there. A new run of the same group (a new {@code run_id})
 * replaces the row, so a replay starts again from its own start.
 *
 * <pre>{@code
 * ReadProgress progress = new ReadProgress(storeConfig);
 * progress.report("kappa-beam.events.v2", "events", runId, 0, 1_234L, 1_000L);   // from the job
 * Map<Integer, ReadProgress.Position> read = progress.read("kappa-beam.events.v2", "events", runId);
 * }</pre>
 */
public final class ReadProgress implements AutoCloseable {
  static final String TABLE = "kb_read_progress";

  private final JdbcSession session;
  private boolean schemaReady;

  public ReadProgress(StoreConfig config) {
    this.session =
        new JdbcSession(
            Objects.requireNonNull(config, "config"),
            org.slf4j.LoggerFactory.getLogger(ReadProgress.class));
  }

  /** What a run has read in one partition, and when it last said so. */
  public record Position(long nextOffset, long records, Instant updatedAt) {}

  /** Creates the table unless it exists. Every other method calls it first. */
  public synchronized void ensureSchema() {
    if (schemaReady) {
      return;
    }
    session.create(
        TABLE,
        "CREATE TABLE IF NOT EXISTS "
            + q(TABLE)
            + " ("
            + q("consumer_group")
            + " VARCHAR NOT NULL, "
            + q("topic")
            + " VARCHAR NOT NULL, "
            + q("partition_id")
            + " INT NOT NULL, "
            + q("run_id")
            + " VARCHAR NOT NULL, "
            + q("next_offset")
            + " BIGINT NOT NULL, "
            + q("records")
            + " BIGINT NOT NULL, "
            + q("updated_at")
            + " TIMESTAMP WITH TIME ZONE NOT NULL, PRIMARY KEY ("
            + q("consumer_group")
            + ", "
            + q("topic")
            + ", "
            + q("partition_id")
            + "))");
    schemaReady = true;
  }

  /**
   * Records that run {@code runId} read {@code records} more records of a partition, the highest at
   * {@code nextOffset - 1}, in one transaction per call (one per partition and bundle).
   */
  public void report(
      String group, String topic, String runId, int partition, long nextOffset, long records) {
    if (partition < 0 || nextOffset < 0 || records < 0) {
      throw new IllegalArgumentException(
          "partition, offset and records must not be negative: "
              + partition
              + ", "
              + nextOffset
              + ", "
              + records);
    }
    String merge =
        "MERGE INTO "
            + q(TABLE)
            + " AS t USING (VALUES (CAST(? AS VARCHAR), CAST(? AS VARCHAR), CAST(? AS INT),"
            + " CAST(? AS VARCHAR), CAST(? AS BIGINT), CAST(? AS BIGINT),"
            + " CAST(? AS TIMESTAMP WITH TIME ZONE))) AS s (g, tp, p, r, n, c, u)"
            + " ON t."
            + q("consumer_group")
            + " = s.g AND t."
            + q("topic")
            + " = s.tp AND t."
            + q("partition_id")
            + " = s.p"
            + " WHEN MATCHED AND t."
            + q("run_id")
            + " = s.r THEN UPDATE SET "
            + q("next_offset")
            + " = CASE WHEN t."
            + q("next_offset")
            + " > s.n THEN t."
            + q("next_offset")
            + " ELSE s.n END, "
            + q("records")
            + " = t."
            + q("records")
            + " + s.c, "
            + q("updated_at")
            + " = s.u"
            + " WHEN MATCHED THEN UPDATE SET "
            + q("run_id")
            + " = s.r, "
            + q("next_offset")
            + " = s.n, "
            + q("records")
            + " = s.c, "
            + q("updated_at")
            + " = s.u"
            + " WHEN NOT MATCHED THEN INSERT ("
            + q("consumer_group")
            + ", "
            + q("topic")
            + ", "
            + q("partition_id")
            + ", "
            + q("run_id")
            + ", "
            + q("next_offset")
            + ", "
            + q("records")
            + ", "
            + q("updated_at")
            + ") VALUES (s.g, s.tp, s.p, s.r, s.n, s.c, s.u)";
    OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
    inTransaction(
        "report read progress",
        c -> {
          try (PreparedStatement ps = c.prepareStatement(merge)) {
            ps.setString(1, group);
            ps.setString(2, topic);
            ps.setInt(3, partition);
            ps.setString(4, runId);
            ps.setLong(5, nextOffset);
            ps.setLong(6, records);
            ps.setObject(7, now);
            ps.executeUpdate();
          }
          return null;
        });
  }

  /**
   * What run {@code runId} of {@code group} has read, by partition; partitions it has not reported
   * yet are absent. With a null {@code runId}, the latest run's rows, whichever it is.
   */
  public Map<Integer, Position> read(String group, String topic, String runId) {
    return inTransaction(
        "read " + TABLE,
        c -> {
          Map<Integer, Position> out = new TreeMap<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT "
                      + q("partition_id")
                      + ", "
                      + q("run_id")
                      + ", "
                      + q("next_offset")
                      + ", "
                      + q("records")
                      + ", "
                      + q("updated_at")
                      + " FROM "
                      + q(TABLE)
                      + " WHERE "
                      + q("consumer_group")
                      + " = ? AND "
                      + q("topic")
                      + " = ?")) {
            ps.setString(1, group);
            ps.setString(2, topic);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                if (runId == null || runId.equals(rs.getString(2))) {
                  out.put(
                      rs.getInt(1),
                      new Position(
                          rs.getLong(3),
                          rs.getLong(4),
                          rs.getObject(5, OffsetDateTime.class).toInstant()));
                }
              }
            }
          }
          return out;
        });
  }

  /** Deletes a group's rows (when its version is dropped). Returns how many rows went. */
  public int delete(String group) {
    return inTransaction(
        "delete the read progress of " + group,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "DELETE FROM " + q(TABLE) + " WHERE " + q("consumer_group") + " = ?")) {
            ps.setString(1, group);
            return ps.executeUpdate();
          }
        });
  }

  @Override
  public void close() {
    session.close();
  }

  private <T> T inTransaction(String what, JdbcSession.Work<T> work) {
    ensureSchema();
    return session.inTransaction(what, work);
  }
}
