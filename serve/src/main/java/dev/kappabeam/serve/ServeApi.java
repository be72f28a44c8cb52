package dev.kappabeam.serve;

import dev.kappabeam.kappa.VersionLag;
import dev.kappabeam.serving.AliasReads;
import dev.kappabeam.serving.JdbcUrls;
import dev.kappabeam.serving.LambdaRegistry;
import dev.kappabeam.serving.ReadProgress;
import dev.kappabeam.serving.RegisteredVersion;
import dev.kappabeam.serving.RegisteredVersion.Status;
import dev.kappabeam.serving.VersionCounters;
import dev.kappabeam.serving.ViewRegistry;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.views.ViewCatalog;
import dev.kappabeam.transforms.views.ViewDefinition;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;

/**
 * What {@code kb serve} answers, as plain maps and lists ready for JSON, independent of HTTP: the
 * views and their live version, rows of a live alias, the versions with lag and counters, and the
 * model of the Prometheus metrics.
 *
 * <p>Reads only: it never changes the registry or a table (the registry and counters tables are
 * created empty if missing, as every reader of them does). Thread-safe.
 */
final class ServeApi implements AutoCloseable {
  /** A job whose heartbeat is older than this is reported dead (as {@code kb status} does). */
  static final Duration STALE_AFTER = Duration.ofSeconds(15);

  private final Backend backend;
  private final ViewRegistry registry;
  private final VersionCounters counters;
  private final ViewStore store;
  private final ReadProgress progress;
  private final LambdaRegistry lambda;
  private final VersionLag kafka;
  private final Duration queryTimeout;
  private final Map<String, Rate> rates = new ConcurrentHashMap<>();

  /** Over {@code backend}; the row reads are cancelled after {@code queryTimeout}. */
  ServeApi(Backend backend, Duration queryTimeout) {
    this.backend = backend;
    this.queryTimeout = queryTimeout;
    this.registry = new ViewRegistry(backend.store());
    this.counters = new VersionCounters(backend.store());
    this.store = new ViewStore(backend.store());
    this.progress = new ReadProgress(backend.store());
    this.lambda = new LambdaRegistry(backend.store());
    this.kafka =
        backend.bootstrapServers() == null
            ? null
            : new VersionLag(backend.bootstrapServers(), backend.kafkaSettings());
  }

  // ---------------------------------------------------------------------------------------------
  // Views

  /** {@code GET /api/views}: every view, its live and previous version, and its columns. */
  List<Map<String, Object>> views() {
    List<Map<String, Object>> out = new ArrayList<>();
    for (ViewDefinition v : ViewCatalog.current().definitions()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("view", v.name());
      m.put("live_version", registry.live(v.name()).orElse(null));
      m.put("previous_version", registry.previous(v.name()).orElse(null));
      m.put("key_columns", v.keyColumns());
      m.put("time_column", LiveViewQuery.timeColumn(v));
      m.put("key_column", LiveViewQuery.keyColumn(v));
      m.put("default_by", v.progressColumn());
      List<Map<String, Object>> columns = new ArrayList<>();
      for (Schema.Field f : v.schema().getFields()) {
        columns.add(Map.of("name", f.getName(), "type", Json.typeName(f)));
      }
      m.put("columns", columns);
      m.put("numeric_columns", LiveViewQuery.numericColumns(v));
      out.add(m);
    }
    return out;
  }

  static ViewDefinition view(String name) {
    return ViewCatalog.current()
        .definition(name)
        .orElseThrow(
            () ->
                ApiException.badRequest(
                    "unknown view '" + name + "'; the views are " + ViewCatalog.current().names()));
  }

  /** {@code GET /api/views/{view}}: rows of the live alias (see {@link LiveViewQuery}). */
  Map<String, Object> rows(String viewName, Map<String, String> params) {
    ViewDefinition view = view(viewName);
    LiveViewQuery query = LiveViewQuery.parse(view, params);
    // The live version is read before and after the rows: equal means the rows are that
    // version's (the alias switches atomically); a cutover in between is simply read again.
    for (int attempt = 1; ; attempt++) {
      String before = liveOrThrow(view);
      List<Map<String, Object>> rows = select(query);
      String after = liveOrThrow(view);
      if (before.equals(after) || attempt >= 3) {
        boolean truncated = rows.size() > query.limit;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("view", view.name());
        m.put("version", after);
        m.put("columns", view.schema().getFieldNames());
        m.put("rows", truncated ? rows.subList(0, query.limit) : rows);
        m.put("count", truncated ? query.limit : rows.size());
        m.put("truncated", truncated);
        return m;
      }
    }
  }

  /**
   * {@code GET /api/lambda/{view}}: the first {@code limit} rows of the merged Lambda view (batch +
   * speed of the live pair, merged per key exactly, as {@code kb lambda read}) in key order, read
   * with the LIMIT in SQL (see {@link LambdaRegistry#readPage}).
   */
  Map<String, Object> lambdaRows(String viewName, Map<String, String> params) {
    ViewDefinition view = view(viewName);
    for (String p : params.keySet()) {
      if (!p.equals("limit")) {
        throw ApiException.badRequest("unknown parameter '" + p + "'; this endpoint takes limit");
      }
    }
    int limit = LiveViewQuery.limit(params.get("limit"));
    LambdaRegistry.Page page =
        lambda
            .readPage(view, limit, queryTimeout)
            .orElseThrow(
                () ->
                    ApiException.notFound(
                        "view "
                            + view.name()
                            + " has no Lambda deployment yet; run kb batch then kb speed"));
    List<Map<String, Object>> rows = new ArrayList<>();
    for (Row r : page.rows()) {
      Map<String, Object> row = new LinkedHashMap<>();
      for (Schema.Field f : view.schema().getFields()) {
        Object v = r.getValue(f.getName());
        if (v instanceof org.joda.time.ReadableInstant) {
          v = Json.time(Instant.ofEpochMilli(((org.joda.time.ReadableInstant) v).getMillis()));
        }
        row.put(f.getName(), v);
      }
      rows.add(row);
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("view", view.name());
    m.put("cutoff", page.live().cutoffId());
    m.put("batch_version", page.live().batchVersion());
    m.put("speed_version", page.live().speedVersion());
    m.put("columns", view.schema().getFieldNames());
    m.put("rows", rows);
    m.put("count", rows.size());
    m.put("truncated", page.truncated());
    return m;
  }

  private String liveOrThrow(ViewDefinition view) {
    return registry
        .live(view.name())
        .orElseThrow(
            () ->
                ApiException.notFound(
                    "view "
                        + view.name()
                        + " has no live version yet; build one with kb run or kb reprocess,"
                        + " then cut over"));
  }

  private List<Map<String, Object>> select(LiveViewQuery query) {
    try (Connection c = connect()) {
      // H2 may fail a query planned while a cutover replaces the alias: read again (AliasReads).
      return AliasReads.retrying(() -> select(c, query));
    } catch (SQLException e) {
      throw new IllegalStateException(
          "cannot read the live alias "
              + query.view.name()
              + ": "
              + JdbcUrls.redact(e.getMessage()),
          e);
    }
  }

  private List<Map<String, Object>> select(Connection c, LiveViewQuery query) throws SQLException {
    List<Schema.Field> fields = query.view.schema().getFields();
    try (PreparedStatement ps = c.prepareStatement(query.sql())) {
      ps.setQueryTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, queryTimeout.toSeconds())));
      List<Object> params = query.parameters();
      for (int i = 0; i < params.size(); i++) {
        ps.setObject(i + 1, params.get(i));
      }
      List<Map<String, Object>> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          Map<String, Object> row = new LinkedHashMap<>();
          for (int i = 0; i < fields.size(); i++) {
            Schema.Field f = fields.get(i);
            Object v;
            if (f.getType().getTypeName() == Schema.TypeName.DATETIME) {
              OffsetDateTime t = rs.getObject(i + 1, OffsetDateTime.class);
              v = t == null ? null : Json.time(t.toInstant());
            } else {
              v = rs.getObject(i + 1);
            }
            row.put(f.getName(), v);
          }
          out.add(row);
        }
      }
      return out;
    }
  }

  private Connection connect() throws SQLException {
    return DriverManager.getConnection(
        backend.store().jdbcUrl(), backend.store().user(), backend.store().password());
  }

  // ---------------------------------------------------------------------------------------------
  // Versions

  /** One registry row with what the API adds: lag, counters, table progress, rate, liveness. */
  record VersionState(
      RegisteredVersion version,
      boolean live,
      boolean jobAlive,
      List<VersionLag.PartitionLag> lag,
      String lagError,
      VersionCounters.Snapshot counters,
      ViewStore.TableProgress table,
      Double recordsPerSecond) {

    Long totalLag() {
      return lag == null ? null : VersionLag.total(lag);
    }
  }

  /** The state of every registered version, by view and version. */
  List<VersionState> versionStates() {
    Instant now = Instant.now();
    Map<String, VersionCounters.Snapshot> byVersion = new LinkedHashMap<>();
    for (VersionCounters.Snapshot s : counters.readAll()) {
      byVersion.put(s.view() + "/" + s.version(), s);
    }
    Map<String, String> live = new LinkedHashMap<>();
    for (ViewDefinition v : ViewCatalog.current().definitions()) {
      registry.live(v.name()).ifPresent(l -> live.put(v.name(), l));
    }
    List<VersionState> out = new ArrayList<>();
    for (RegisteredVersion r : registry.versions(null)) {
      String id = r.view() + "/" + r.version();
      List<VersionLag.PartitionLag> lag = null;
      String lagError = null;
      if (r.status() != Status.DROPPED) {
        if (kafka == null) {
          lagError = "no Kafka bootstrap servers configured";
        } else if (r.topic() == null || r.consumerGroup() == null) {
          lagError = "the version has no topic or consumer group";
        } else {
          try {
            lag = kafka.lag(r, progress);
          } catch (RuntimeException e) {
            lagError = JdbcUrls.redact(String.valueOf(e.getMessage()));
          }
        }
      }
      ViewStore.TableProgress table = null;
      Optional<ViewDefinition> def = ViewCatalog.current().definition(r.view());
      if (def.isPresent() && r.status() != Status.DROPPED) {
        try {
          table = store.progress(def.get(), r.version());
        } catch (RuntimeException e) {
          // No table (yet, or any more): nothing to show.
        }
      }
      VersionCounters.Snapshot snap =
          byVersion.getOrDefault(
              id, new VersionCounters.Snapshot(r.view(), r.version(), Map.of(), null));
      Double rate = rate(id, snap, lag, now);
      out.add(
          new VersionState(
              r,
              r.version().equals(live.get(r.view())),
              r.jobAlive(now, STALE_AFTER),
              lag,
              lagError,
              snap,
              table,
              rate));
    }
    return out;
  }

  /**
   * Records per second: from two publishes of the job's {@code read} counter (their own
   * timestamps), else from the group's committed offsets as this server saw them move.
   */
  private Double rate(
      String id, VersionCounters.Snapshot snap, List<VersionLag.PartitionLag> lag, Instant now) {
    if (snap.updatedAt() != null && snap.values().containsKey("read")) {
      return rates
          .computeIfAbsent(id + "#read", k -> new Rate(Duration.ZERO))
          .sample(snap.get("read"), snap.updatedAt());
    }
    if (lag != null) {
      long committed = lag.stream().mapToLong(p -> p.committed() == null ? 0 : p.committed()).sum();
      return rates
          .computeIfAbsent(id + "#offsets", k -> new Rate(Duration.ofSeconds(2)))
          .sample(committed, now);
    }
    return null;
  }

  /** {@code GET /api/versions}. */
  List<Map<String, Object>> versions() {
    List<Map<String, Object>> out = new ArrayList<>();
    for (VersionState s : versionStates()) {
      RegisteredVersion r = s.version();
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("view", r.view());
      m.put("version", r.version());
      m.put("status", r.status().sql());
      m.put("complete", r.complete());
      m.put("live", s.live());
      m.put("topic", r.topic());
      m.put("consumer_group", r.consumerGroup());
      m.put("start_point", r.startPoint());
      m.put("runner", r.runner());
      m.put("job_id", r.jobId());
      m.put("job_host", r.jobHost());
      m.put("job_pid", r.jobPid());
      m.put("job_state", r.jobState());
      m.put("job_alive", s.jobAlive());
      // Why the job failed (job_state "failed"), credentials in any URL it quotes redacted.
      m.put("job_error", r.jobError() == null ? null : JdbcUrls.redact(r.jobError()));
      m.put("parameters", r.parameters());
      m.put("code_version", r.codeVersion());
      m.put("fingerprint", r.fingerprint());
      m.put("created_at", Json.time(r.createdAt()));
      m.put("started_at", Json.time(r.startedAt()));
      m.put("heartbeat_at", Json.time(r.heartbeatAt()));
      m.put("caught_up_at", Json.time(r.caughtUpAt()));
      m.put("switched_at", Json.time(r.switchedAt()));
      m.put("retired_at", Json.time(r.retiredAt()));
      m.put("dropped_at", Json.time(r.droppedAt()));
      m.put("lag", s.totalLag());
      List<Map<String, Object>> partitions = null;
      if (s.lag() != null) {
        partitions = new ArrayList<>();
        for (VersionLag.PartitionLag p : s.lag()) {
          Map<String, Object> pm = new LinkedHashMap<>();
          pm.put("partition", p.partition());
          pm.put("end_offset", p.endOffset());
          pm.put("committed_offset", p.committed());
          pm.put("read_offset", p.read());
          pm.put("lag", p.lag());
          partitions.add(pm);
        }
      }
      m.put("lag_per_partition", partitions);
      m.put("lag_error", s.lagError());
      m.put("counters", new java.util.TreeMap<>(s.counters().values()));
      m.put("counters_updated_at", Json.time(s.counters().updatedAt()));
      m.put("records_per_second", s.recordsPerSecond());
      Long lag = s.totalLag();
      Double rate = s.recordsPerSecond();
      m.put(
          "eta_seconds",
          lag == null || rate == null || rate <= 0 ? null : (long) Math.ceil(lag / rate));
      m.put("rows", s.table() == null ? null : s.table().rows());
      // The newest window start (session end) in the table: how far event time has got.
      m.put("newest_event_time", s.table() == null ? null : Json.time(s.table().newestEventTime()));
      out.add(m);
    }
    return out;
  }

  @Override
  public void close() {
    registry.close();
    counters.close();
    store.close();
    progress.close();
    if (kafka != null) {
      kafka.close();
    }
  }

  /** The last rate between two distinct samples of a growing value. */
  static final class Rate {
    private final Duration minInterval;
    private long lastValue = -1;
    private Instant lastAt;
    private Double rate;

    /** Samples closer than {@code minInterval} to the previous one are ignored. */
    Rate(Duration minInterval) {
      this.minInterval = minInterval;
    }

    synchronized Double sample(long value, Instant at) {
      if (lastAt != null && at.isAfter(lastAt.plus(minInterval))) {
        double seconds = Duration.between(lastAt, at).toMillis() / 1000.0;
        // A restarted job starts its counters again from 0: no rate for that step.
        rate = value >= lastValue ? (value - lastValue) / seconds : null;
        lastValue = value;
        lastAt = at;
      } else if (lastAt == null) {
        lastValue = value;
        lastAt = at;
      }
      return rate;
    }
  }
}
