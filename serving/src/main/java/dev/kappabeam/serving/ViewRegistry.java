package dev.kappabeam.serving;

import static dev.kappabeam.serving.TableSql.q;

import dev.kappabeam.serving.RegisteredVersion.Status;
import dev.kappabeam.transforms.views.ViewDefinition;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The view registry in the serving database: the versions of each view with their status, how they
 * were built and when, and the <em>live alias</em> through which readers query a view.
 *
 * <p><b>Tables.</b> {@code kb_view_versions} holds one {@link RegisteredVersion} per (view,
 * version). {@code kb_view_aliases} holds, per view, the live version and the one live before it
 * (for rollback).
 *
 * <p><b>The alias.</b> Readers query a SQL view named exactly like the view ({@code SELECT * FROM
 * activity_per_minute}):
 *
 * <pre>{@code
 * SELECT t.<columns> FROM kb_view_aliases a
 *   JOIN (SELECT 'v1' AS kb_version, <columns> FROM activity_per_minute__v1
 *         UNION ALL SELECT 'v2', <columns> FROM activity_per_minute__v2) t
 *     ON t.kb_version = a.live_version
 *  WHERE a.view_name = 'activity_per_minute'
 * }</pre>
 *
 * over the versions that may be live (the live one, the retired ones kept for rollback, and the one
 * being switched to). Switching ({@link #cutover}, {@link #rollback}) is then one transaction of
 * plain row updates: the alias row's {@code live_version} and the versions' statuses change
 * together, atomically for readers and for the registry, on both databases. The pointer row is read
 * once per query (the join's outer side, one row by primary key), so a read returns one version's
 * rows only. DDL ({@code CREATE OR REPLACE VIEW}) runs only when the set of candidate versions
 * changes (a version's first cutover, a drop), and then never changes the view's rows.
 *
 * <p>Why not simply {@code CREATE OR REPLACE VIEW ... FROM <live table>} per switch: on PostgreSQL
 * that is transactional, but H2 commits the open transaction before any DDL (a test proves it), and
 * H2 readers running during the replacement failed with a {@code ConcurrentModificationException}.
 * A pointer in a scalar subquery per {@code UNION ALL} branch was also rejected: H2 evaluates it
 * per row, and a read during a switch returned part of a version.
 *
 * <p>Each call opens its own short transaction on a connection held by this instance; calls are
 * serialized per instance. Several processes may use one registry: status changes lock the view's
 * alias row ({@code SELECT ... FOR UPDATE}) first.
 */
public final class ViewRegistry implements AutoCloseable {
  static final String VERSIONS = "kb_view_versions";
  static final String ALIASES = "kb_view_aliases";

  private static final String COLUMNS =
      String.join(
          ", ",
          q("view_name"),
          q("version"),
          q("status"),
          q("topic"),
          q("consumer_group"),
          q("start_point"),
          q("runner"),
          q("job_id"),
          q("job_host"),
          q("job_pid"),
          q("job_state"),
          q("parameters"),
          q("code_version"),
          q("fingerprint"),
          q("job_args"),
          q("created_at"),
          q("started_at"),
          q("heartbeat_at"),
          q("caught_up_at"),
          q("switched_at"),
          q("retired_at"),
          q("dropped_at"),
          q("job_error"));

  private final JdbcSession session;
  private boolean schemaReady;

  public ViewRegistry(StoreConfig config) {
    this.session =
        new JdbcSession(
            Objects.requireNonNull(config, "config"),
            org.slf4j.LoggerFactory.getLogger(ViewRegistry.class));
  }

  /** The result of a switch: which version is live now, and which was before (may be null). */
  public record Switch(String view, String live, String previous, Instant at) {}

  /** Creates the registry tables unless they exist. Every other method calls it first. */
  public synchronized void ensureSchema() {
    if (schemaReady) {
      return;
    }
    String ts = " TIMESTAMP WITH TIME ZONE";
    String versions =
        "CREATE TABLE IF NOT EXISTS "
            + q(VERSIONS)
            + " ("
            + q("view_name")
            + " VARCHAR NOT NULL, "
            + q("version")
            + " VARCHAR NOT NULL, "
            + q("status")
            + " VARCHAR NOT NULL, "
            + q("topic")
            + " VARCHAR, "
            + q("consumer_group")
            + " VARCHAR, "
            + q("start_point")
            + " VARCHAR, "
            + q("runner")
            + " VARCHAR, "
            + q("job_id")
            + " VARCHAR, "
            + q("job_host")
            + " VARCHAR, "
            + q("job_pid")
            + " BIGINT, "
            + q("job_state")
            + " VARCHAR, "
            + q("parameters")
            + " VARCHAR, "
            + q("code_version")
            + " VARCHAR, "
            + q("fingerprint")
            + " VARCHAR, "
            + q("job_args")
            + " VARCHAR, "
            + q("created_at")
            + ts
            + ", "
            + q("started_at")
            + ts
            + ", "
            + q("heartbeat_at")
            + ts
            + ", "
            + q("caught_up_at")
            + ts
            + ", "
            + q("switched_at")
            + ts
            + ", "
            + q("retired_at")
            + ts
            + ", "
            + q("dropped_at")
            + ts
            + ", "
            + q("job_error")
            + " VARCHAR, PRIMARY KEY ("
            + q("view_name")
            + ", "
            + q("version")
            + "))";
    String aliases =
        "CREATE TABLE IF NOT EXISTS "
            + q(ALIASES)
            + " ("
            + q("view_name")
            + " VARCHAR NOT NULL PRIMARY KEY, "
            + q("live_version")
            + " VARCHAR, "
            + q("previous_version")
            + " VARCHAR, "
            + q("switched_at")
            + ts
            + ", "
            + q("alias_versions")
            + " VARCHAR)";
    // Registries created before the column existed get it (both databases know IF NOT EXISTS).
    String jobError =
        "ALTER TABLE " + q(VERSIONS) + " ADD COLUMN IF NOT EXISTS " + q("job_error") + " VARCHAR";
    session.create("the view registry", versions, aliases, jobError);
    schemaReady = true;
  }

  // ---------------------------------------------------------------------------------------------
  // Reading

  /** The registered version, if any. */
  public Optional<RegisteredVersion> get(String view, String version) {
    return inTransaction(
        "read version " + version + " of " + view, c -> select(c, view, version, false));
  }

  /**
   * Every registered version of {@code view} (of every view when null), by view and version (v2
   * before v10).
   */
  public List<RegisteredVersion> versions(String view) {
    return inTransaction(
        "list versions",
        c -> {
          List<RegisteredVersion> out = new ArrayList<>();
          String sql =
              "SELECT "
                  + COLUMNS
                  + " FROM "
                  + q(VERSIONS)
                  + (view == null ? "" : " WHERE " + q("view_name") + " = ?");
          try (PreparedStatement ps = c.prepareStatement(sql)) {
            if (view != null) {
              ps.setString(1, view);
            }
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(read(rs));
              }
            }
          }
          out.sort(
              (a, b) -> {
                int byView = a.view().compareTo(b.view());
                return byView != 0 ? byView : ViewStore.NATURAL.compare(a.version(), b.version());
              });
          return out;
        });
  }

  /** The versions hosted by one job (a {@code kb run} job may build several views). */
  public List<RegisteredVersion> byJob(String jobId) {
    return versions(null).stream()
        .filter(v -> jobId.equals(v.jobId()))
        .collect(Collectors.toList());
  }

  /** The live version of a view, if one is live. */
  public Optional<String> live(String view) {
    return alias(view).map(a -> a[0]);
  }

  /** The version that was live before the live one (what {@link #rollback} returns to). */
  public Optional<String> previous(String view) {
    return alias(view).map(a -> a[1]);
  }

  private Optional<String[]> alias(String view) {
    return inTransaction(
        "read the alias of " + view,
        c -> {
          try (PreparedStatement ps = c.prepareStatement(aliasRowSql(""))) {
            ps.setString(1, view);
            try (ResultSet rs = ps.executeQuery()) {
              if (!rs.next() || rs.getString(1) == null) {
                return Optional.<String[]>empty();
              }
              return Optional.of(new String[] {rs.getString(1), rs.getString(2)});
            }
          }
        });
  }

  /** The alias row of one view (live and previous version), with a locking {@code suffix}. */
  private static String aliasRowSql(String suffix) {
    return "SELECT "
        + q("live_version")
        + ", "
        + q("previous_version")
        + " FROM "
        + q(ALIASES)
        + " WHERE "
        + q("view_name")
        + " = ?"
        + suffix;
  }

  // ---------------------------------------------------------------------------------------------
  // Building

  /**
   * Registers a new version as {@link Status#BUILDING} (timestamps, job fields and status of {@code
   * v} are ignored). A dropped version may be registered again; any other existing one may not.
   *
   * @throws RegistryException if the version is registered and not dropped
   */
  public RegisteredVersion register(RegisteredVersion v) {
    Instant now = now();
    return inTransaction(
        "register version " + v.version() + " of " + v.view(),
        c -> {
          Optional<RegisteredVersion> existing = select(c, v.view(), v.version(), true);
          if (existing.isPresent() && existing.get().status() != Status.DROPPED) {
            throw new RegistryException(
                "version "
                    + v.version()
                    + " of "
                    + v.view()
                    + " is already registered ("
                    + existing.get().status().sql()
                    + "); pick a new version");
          }
          if (existing.isPresent()) {
            delete(c, v.view(), v.version());
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO "
                      + q(VERSIONS)
                      + " ("
                      + q("view_name")
                      + ", "
                      + q("version")
                      + ", "
                      + q("status")
                      + ", "
                      + q("topic")
                      + ", "
                      + q("consumer_group")
                      + ", "
                      + q("start_point")
                      + ", "
                      + q("runner")
                      + ", "
                      + q("parameters")
                      + ", "
                      + q("code_version")
                      + ", "
                      + q("fingerprint")
                      + ", "
                      + q("job_args")
                      + ", "
                      + q("created_at")
                      + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, v.view());
            ps.setString(2, v.version());
            ps.setString(3, Status.BUILDING.sql());
            ps.setString(4, v.topic());
            ps.setString(5, v.consumerGroup());
            ps.setString(6, v.startPoint());
            ps.setString(7, v.runner());
            ps.setString(8, v.parameters());
            ps.setString(9, v.codeVersion());
            ps.setString(10, v.fingerprint());
            ps.setString(11, v.jobArgs());
            setTime(ps, 12, now);
            ps.executeUpdate();
          }
          return select(c, v.view(), v.version(), false).orElseThrow();
        });
  }

  /**
   * Records that a job now builds these versions: runner, job id, the hosting process, state {@code
   * running}, started and heartbeat time now.
   */
  public void jobStarted(
      List<RegisteredVersion> versions, String runner, String jobId, String host, long pid) {
    Instant now = now();
    inTransaction(
        "record job " + jobId,
        c -> {
          for (RegisteredVersion v : versions) {
            try (PreparedStatement ps =
                c.prepareStatement(
                    "UPDATE "
                        + q(VERSIONS)
                        + " SET "
                        + q("runner")
                        + " = ?, "
                        + q("job_id")
                        + " = ?, "
                        + q("job_host")
                        + " = ?, "
                        + q("job_pid")
                        + " = ?, "
                        + q("job_state")
                        + " = ?, "
                        + q("started_at")
                        + " = ?, "
                        + q("heartbeat_at")
                        + " = ?, "
                        + q("job_error")
                        + " = NULL WHERE "
                        + q("view_name")
                        + " = ? AND "
                        + q("version")
                        + " = ?")) {
              ps.setString(1, runner);
              ps.setString(2, jobId);
              ps.setString(3, host);
              ps.setLong(4, pid);
              ps.setString(5, RegisteredVersion.RUNNING);
              setTime(ps, 6, now);
              setTime(ps, 7, now);
              ps.setString(8, v.view());
              ps.setString(9, v.version());
              ps.executeUpdate();
            }
          }
          return null;
        });
  }

  /**
   * The hosting process is alive: sets the heartbeat of the job's versions to now and returns them
   * as they are now (a host stops its job when none of them is building or live any more).
   */
  public List<RegisteredVersion> heartbeat(String jobId) {
    Instant now = now();
    inTransaction(
        "heartbeat of job " + jobId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE "
                      + q(VERSIONS)
                      + " SET "
                      + q("heartbeat_at")
                      + " = ? WHERE "
                      + q("job_id")
                      + " = ? AND "
                      + q("job_state")
                      + " = ?")) {
            setTime(ps, 1, now);
            ps.setString(2, jobId);
            ps.setString(3, RegisteredVersion.RUNNING);
            ps.executeUpdate();
          }
          return null;
        });
    return byJob(jobId);
  }

  /** The job ended ({@code stopped}, {@code done} or {@code failed}) without an error to record. */
  public void jobEnded(String jobId, String state) {
    jobEnded(jobId, state, null);
  }

  /**
   * The job ended in {@code state}; {@code error} (null unless it failed) says why, and is shown by
   * {@code kb status} until the version's next job starts.
   */
  public void jobEnded(String jobId, String state, String error) {
    inTransaction(
        "record the end of job " + jobId,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE "
                      + q(VERSIONS)
                      + " SET "
                      + q("job_state")
                      + " = ?, "
                      + q("job_error")
                      + " = ? WHERE "
                      + q("job_id")
                      + " = ?")) {
            ps.setString(1, state);
            ps.setString(2, error);
            ps.setString(3, jobId);
            ps.executeUpdate();
          }
          return null;
        });
  }

  /** Records when a version caught up with the log (the first time only). */
  public void caughtUp(String view, String version, Instant at) {
    inTransaction(
        "record catch-up of " + version,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE "
                      + q(VERSIONS)
                      + " SET "
                      + q("caught_up_at")
                      + " = ? WHERE "
                      + q("view_name")
                      + " = ? AND "
                      + q("version")
                      + " = ? AND "
                      + q("caught_up_at")
                      + " IS NULL")) {
            setTime(ps, 1, at);
            ps.setString(2, view);
            ps.setString(3, version);
            ps.executeUpdate();
          }
          return null;
        });
  }

  // ---------------------------------------------------------------------------------------------
  // Switching

  /**
   * Makes {@code version} (building or retired, with a table) the live version of {@code view}: in
   * one transaction the alias points at it, it becomes live (switched now) and the version live
   * before becomes retired (retired now) and is remembered for {@link #rollback}. Making the live
   * version live again changes nothing.
   *
   * @throws RegistryException if the version is not registered, dropped, or has no table
   */
  public Switch cutover(ViewDefinition view, String version) {
    RegisteredVersion target =
        get(view.name(), version)
            .orElseThrow(
                () ->
                    new RegistryException(
                        "version "
                            + version
                            + " of "
                            + view.name()
                            + " is not registered; registered: "
                            + names(view.name())));
    if (target.status() == Status.DROPPED) {
      throw new RegistryException(
          "version " + version + " of " + view.name() + " was dropped; it cannot become live");
    }
    return switchTo(view, version, null);
  }

  /**
   * Makes the version that was live before the live one live again, in one transaction (the live
   * one becomes retired, and is then the one a further rollback or a cutover returns to).
   *
   * @throws RegistryException if no version was live before, or it was dropped
   */
  public Switch rollback(ViewDefinition view) {
    String live =
        live(view.name())
            .orElseThrow(
                () -> new RegistryException("no version of " + view.name() + " is live yet"));
    String previous =
        previous(view.name())
            .orElseThrow(
                () ->
                    new RegistryException(
                        "no version of "
                            + view.name()
                            + " was live before "
                            + live
                            + "; nothing to roll back to"));
    RegisteredVersion p = get(view.name(), previous).orElseThrow();
    if (p.status() == Status.DROPPED) {
      throw new RegistryException(
          "the previous version "
              + previous
              + " of "
              + view.name()
              + " was dropped; cut over to another one with kb cutover");
    }
    return switchTo(view, previous, live);
  }

  private Switch switchTo(ViewDefinition view, String version, String expectedLive) {
    Instant now = now();
    Set<String> tables = tablesOf(view);
    if (!tables.contains(ViewStore.tableName(view, version))) {
      throw new RegistryException(
          "version "
              + version
              + " of "
              + view.name()
              + " has no table "
              + ViewStore.tableName(view, version)
              + "; it cannot become live");
    }
    // DDL outside the switch (it would commit the switch's transaction on H2): make the target a
    // candidate of the alias. The pointer does not select it yet, so no reader sees a change.
    boolean aliasExists = live(view.name()).isPresent();
    if (aliasExists) {
      coverVersions(view, Set.of(version));
    }
    Switch result =
        inTransaction(
            "switch " + view.name() + " to " + version,
            c -> {
              String[] alias = lockAlias(c, view.name());
              String live = alias[0];
              if (expectedLive != null && !expectedLive.equals(live)) {
                throw new RegistryException(
                    "the live version of "
                        + view.name()
                        + " changed to "
                        + live
                        + " meanwhile; run the command again");
              }
              if (version.equals(live)) {
                return new Switch(view.name(), live, alias[1], null);
              }
              RegisteredVersion target = select(c, view.name(), version, true).orElseThrow();
              if (target.status() == Status.DROPPED) {
                throw new RegistryException(version + " was dropped meanwhile");
              }
              try (PreparedStatement ps =
                  c.prepareStatement(
                      "UPDATE "
                          + q(ALIASES)
                          + " SET "
                          + q("live_version")
                          + " = ?, "
                          + q("previous_version")
                          + " = ?, "
                          + q("switched_at")
                          + " = ? WHERE "
                          + q("view_name")
                          + " = ?")) {
                ps.setString(1, version);
                ps.setString(2, live);
                setTime(ps, 3, now);
                ps.setString(4, view.name());
                ps.executeUpdate();
              }
              setStatus(c, view.name(), version, Status.LIVE, "switched_at", now);
              if (live != null) {
                setStatus(c, view.name(), live, Status.RETIRED, "retired_at", now);
              }
              return new Switch(view.name(), version, live, now);
            });
    // The first switch creates the alias (until then the view did not exist at all); later ones
    // find it covering the target already. Also repairs an alias a process died before creating.
    coverVersions(view, Set.of());
    return result;
  }

  /**
   * Prepares dropping a version: it must be retired (or, with {@code allowBuilding}, building); the
   * alias is redefined without its table, so the table can be dropped.
   *
   * @throws RegistryException if the version is live, dropped or not registered
   */
  public RegisteredVersion prepareDrop(ViewDefinition view, String version, boolean allowBuilding) {
    RegisteredVersion v =
        get(view.name(), version)
            .orElseThrow(
                () ->
                    new RegistryException(
                        "version "
                            + version
                            + " of "
                            + view.name()
                            + " is not registered; registered: "
                            + names(view.name())));
    boolean ok = v.status() == Status.RETIRED || allowBuilding && v.status() == Status.BUILDING;
    if (!ok) {
      throw new RegistryException(
          "version "
              + version
              + " of "
              + view.name()
              + " is "
              + v.status().sql()
              + "; only retired versions can be dropped"
              + (v.status() == Status.LIVE
                  ? " (cut over to another version or roll back first)"
                  : ""));
    }
    List<String> remaining = new ArrayList<>(candidates(view));
    remaining.remove(version);
    if (live(view.name()).isPresent() && !remaining.equals(coveredVersions(view.name()))) {
      writeAlias(view, remaining);
    }
    return v;
  }

  /** Marks a version dropped (after its table and consumer group are gone). */
  public void markDropped(String view, String version) {
    Instant now = now();
    inTransaction(
        "mark " + version + " dropped",
        c -> {
          lockAlias(c, view);
          RegisteredVersion v = select(c, view, version, true).orElseThrow();
          if (v.status() == Status.LIVE) {
            throw new RegistryException(version + " became live meanwhile; not dropped");
          }
          setStatus(c, view, version, Status.DROPPED, "dropped_at", now);
          return null;
        });
  }

  /**
   * Makes sure the alias exists (once a version has been live) and covers the candidate versions
   * (live and retired ones with a table) plus {@code extra}; runs DDL only if it does not yet.
   * Never changes what the alias returns, since the pointer row decides that.
   */
  public void coverVersions(ViewDefinition view, Set<String> extra) {
    if (live(view.name()).isEmpty()) {
      return;
    }
    List<String> wanted = new ArrayList<>(candidates(view));
    for (String e : extra) {
      if (!wanted.contains(e)) {
        wanted.add(e);
      }
    }
    List<String> covered = coveredVersions(view.name());
    if (!covered.containsAll(wanted) || !aliasExists(view)) {
      List<String> union = new ArrayList<>(wanted);
      writeAlias(view, union);
    }
  }

  /** Live and retired versions that have a table, the live one first. */
  private List<String> candidates(ViewDefinition view) {
    Set<String> tables = tablesOf(view);
    List<String> out = new ArrayList<>();
    live(view.name())
        .filter(l -> tables.contains(ViewStore.tableName(view, l)))
        .ifPresent(out::add);
    for (RegisteredVersion v : versions(view.name())) {
      if ((v.status() == Status.LIVE || v.status() == Status.RETIRED)
          && tables.contains(v.table())
          && !out.contains(v.version())) {
        out.add(v.version());
      }
    }
    return out;
  }

  private List<String> coveredVersions(String view) {
    return inTransaction(
        "read the alias of " + view,
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT "
                      + q("alias_versions")
                      + " FROM "
                      + q(ALIASES)
                      + " WHERE "
                      + q("view_name")
                      + " = ?")) {
            ps.setString(1, view);
            try (ResultSet rs = ps.executeQuery()) {
              String text = rs.next() ? rs.getString(1) : null;
              return text == null || text.isEmpty() ? List.<String>of() : List.of(text.split(","));
            }
          }
        });
  }

  private boolean aliasExists(ViewDefinition view) {
    return inTransaction(
        "look up the alias " + view.name(),
        c -> {
          try (ResultSet rs =
              c.getMetaData()
                  .getTables(c.getCatalog(), c.getSchema(), view.name(), new String[] {"VIEW"})) {
            return rs.next();
          }
        });
  }

  /** The alias's SQL over these versions' tables (see the class comment). */
  static String aliasSql(ViewDefinition view, List<String> versions) {
    return "CREATE OR REPLACE VIEW "
        + q(view.name())
        + " AS SELECT "
        + TableSql.qualifiedColumns(view, "t")
        + " FROM "
        + q(ALIASES)
        + " a JOIN ("
        + TableSql.versionsUnion(view, versions)
        + ") t ON t."
        + q("kb_version")
        + " = a."
        + q("live_version")
        + " WHERE a."
        + q("view_name")
        + " = '"
        + view.name()
        + "'";
  }

  private void writeAlias(ViewDefinition view, List<String> versions) {
    if (versions.isEmpty()) {
      return;
    }
    inTransaction(
        "define the alias " + view.name(),
        c -> {
          try (Statement st = c.createStatement()) {
            st.execute(aliasSql(view, versions));
          }
          // A separate statement after the DDL: on H2 the DDL committed already.
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE "
                      + q(ALIASES)
                      + " SET "
                      + q("alias_versions")
                      + " = ? WHERE "
                      + q("view_name")
                      + " = ?")) {
            ps.setString(1, String.join(",", versions));
            ps.setString(2, view.name());
            ps.executeUpdate();
          }
          return null;
        });
  }

  // ---------------------------------------------------------------------------------------------
  // SQL helpers

  /** Locks the view's alias row (creating it if missing) and returns [live, previous]. */
  private static String[] lockAlias(Connection c, String view) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "MERGE INTO "
                + q(ALIASES)
                + " AS t USING (VALUES (CAST(? AS VARCHAR))) AS s ("
                + q("view_name")
                + ") ON t."
                + q("view_name")
                + " = s."
                + q("view_name")
                + " WHEN NOT MATCHED THEN INSERT ("
                + q("view_name")
                + ") VALUES (s."
                + q("view_name")
                + ")")) {
      ps.setString(1, view);
      ps.executeUpdate();
    }
    try (PreparedStatement ps = c.prepareStatement(aliasRowSql(" FOR UPDATE"))) {
      ps.setString(1, view);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return new String[] {rs.getString(1), rs.getString(2)};
      }
    }
  }

  private static void setStatus(
      Connection c, String view, String version, Status status, String timeColumn, Instant at)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE "
                + q(VERSIONS)
                + " SET "
                + q("status")
                + " = ?, "
                + q(timeColumn)
                + " = ? WHERE "
                + q("view_name")
                + " = ? AND "
                + q("version")
                + " = ?")) {
      ps.setString(1, status.sql());
      setTime(ps, 2, at);
      ps.setString(3, view);
      ps.setString(4, version);
      ps.executeUpdate();
    }
  }

  private static Optional<RegisteredVersion> select(
      Connection c, String view, String version, boolean forUpdate) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT "
                + COLUMNS
                + " FROM "
                + q(VERSIONS)
                + " WHERE "
                + q("view_name")
                + " = ? AND "
                + q("version")
                + " = ?"
                + (forUpdate ? " FOR UPDATE" : ""))) {
      ps.setString(1, view);
      ps.setString(2, version);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(read(rs)) : Optional.empty();
      }
    }
  }

  private static void delete(Connection c, String view, String version) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "DELETE FROM "
                + q(VERSIONS)
                + " WHERE "
                + q("view_name")
                + " = ? AND "
                + q("version")
                + " = ?")) {
      ps.setString(1, view);
      ps.setString(2, version);
      ps.executeUpdate();
    }
  }

  private static RegisteredVersion read(ResultSet rs) throws SQLException {
    long pid = rs.getLong("job_pid");
    Long jobPid = rs.wasNull() ? null : pid;
    return new RegisteredVersion(
        rs.getString("view_name"),
        rs.getString("version"),
        Status.of(rs.getString("status")),
        rs.getString("topic"),
        rs.getString("consumer_group"),
        rs.getString("start_point"),
        rs.getString("runner"),
        rs.getString("job_id"),
        rs.getString("job_host"),
        jobPid,
        rs.getString("job_state"),
        rs.getString("parameters"),
        rs.getString("code_version"),
        rs.getString("fingerprint"),
        rs.getString("job_args"),
        time(rs, "created_at"),
        time(rs, "started_at"),
        time(rs, "heartbeat_at"),
        time(rs, "caught_up_at"),
        time(rs, "switched_at"),
        time(rs, "retired_at"),
        time(rs, "dropped_at"),
        rs.getString("job_error"));
  }

  private static Instant time(ResultSet rs, String column) throws SQLException {
    OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
    return t == null ? null : t.toInstant();
  }

  private static void setTime(PreparedStatement ps, int i, Instant t) throws SQLException {
    if (t == null) {
      ps.setNull(i, Types.TIMESTAMP_WITH_TIMEZONE);
    } else {
      ps.setObject(i, OffsetDateTime.ofInstant(t, ZoneOffset.UTC));
    }
  }

  /** Millisecond precision: what both databases store exactly. */
  private static Instant now() {
    return Instant.ofEpochMilli(System.currentTimeMillis());
  }

  private Set<String> tablesOf(ViewDefinition view) {
    return inTransaction(
        "list the tables of " + view.name(),
        c -> {
          Set<String> out = new LinkedHashSet<>();
          try (ResultSet rs =
              c.getMetaData()
                  .getTables(c.getCatalog(), c.getSchema(), null, new String[] {"TABLE"})) {
            while (rs.next()) {
              String name = rs.getString("TABLE_NAME");
              if (name.startsWith(view.name() + "__")) {
                out.add(name);
              }
            }
          }
          return out;
        });
  }

  private String names(String view) {
    List<String> names =
        versions(view).stream().map(RegisteredVersion::version).collect(Collectors.toList());
    return names.isEmpty() ? "none" : String.join(", ", names);
  }

  // ---------------------------------------------------------------------------------------------
  // Connections

  @Override
  public void close() {
    session.close();
  }

  private <T> T inTransaction(String what, JdbcSession.Work<T> work) {
    ensureSchema();
    return session.inTransaction(what, work);
  }
}
