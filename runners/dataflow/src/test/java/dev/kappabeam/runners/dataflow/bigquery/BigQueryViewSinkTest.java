package dev.kappabeam.runners.dataflow.bigquery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.api.services.bigquery.model.Table;
import com.google.api.services.bigquery.model.TableFieldSchema;
import com.google.api.services.bigquery.model.TableReference;
import com.google.api.services.bigquery.model.TableRow;
import dev.kappabeam.generator.GeneratedRecord;
import dev.kappabeam.generator.Oracle;
import dev.kappabeam.generator.WorkloadGenerator;
import dev.kappabeam.pipelines.KappaBeamPipeline;
import dev.kappabeam.pipelines.ViewSinks;
import dev.kappabeam.serving.ViewDiff;
import dev.kappabeam.transforms.ReferenceViews;
import dev.kappabeam.transforms.events.EventParser;
import dev.kappabeam.transforms.events.SourceRecord;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.ViewTable;
import dev.kappabeam.transforms.views.Views;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.io.gcp.testing.FakeBigQueryServices;
import org.apache.beam.sdk.io.gcp.testing.FakeDatasetService;
import org.apache.beam.sdk.io.gcp.testing.FakeJobService;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.POutput;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TimestampedValue;
import org.joda.time.Duration;
import org.joda.time.Instant;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The BigQuery serving store on Beam's fake BigQuery services (offline): the reference views of a
 * generated workload (out-of-order, late-within-lateness, duplicate and malformed records) run on
 * DirectRunner, bounded and as a replayed stream with accumulating and late panes, are written
 * through {@link BigQueryViewSink} (Storage Write API CDC upserts) into the fake; the tables are
 * read back and the read rule of {@link BigQueryViewTables#currentRowsQuery} (the same SQL text,
 * run on H2) must give exactly the oracle's rows.
 *
 * <p>What the fake does and does not prove: {@code FakeDatasetService} applies {@code UPSERT}s by
 * the table's primary key and keeps, per key, the largest {@code _CHANGE_SEQUENCE_NUMBER} (parsed
 * as one hexadecimal number), as BigQuery documents for CDC; it accepts but ignores partitioning
 * and clustering, and it cannot run SQL (hence H2 for the read query).
 */
class BigQueryViewSinkTest {
  private static final String PROJECT = "kappa-beam-test";
  private static final String DATASET = "serving";
  private static final ViewParameters PARAMS = ViewParameters.defaults();
  private static final Duration BOUND = Duration.standardSeconds(10);

  private FakeBigQueryServices services;
  private FakeDatasetService datasets;

  @BeforeEach
  void fakeBigQuery() throws Exception {
    FakeDatasetService.setUp();
    datasets = new FakeDatasetService();
    datasets.createDataset(PROJECT, DATASET, "", "", null);
    services =
        new FakeBigQueryServices()
            .withDatasetService(datasets)
            .withJobService(new FakeJobService());
  }

  private static List<GeneratedRecord> workload(long seed) {
    return WorkloadGenerator.seeded(seed)
        .withCount(300)
        .withUsers(25)
        .withItems(10)
        .withEventsPerSecond(1)
        .withOutOfOrderFraction(0.1)
        .withLateFraction(0.05)
        .withTooLateFraction(0)
        .withDuplicateFraction(0.05)
        .withMalformedFraction(0.05)
        .generate();
  }

  @Test
  void boundedRunAndItsReplayIntoTheSameVersionEqualTheOracle() throws Exception {
    List<GeneratedRecord> records = workload(11);
    Oracle.Result expected = Oracle.computeFromRecords(records, PARAMS);

    run(bounded(records), "v1");
    Map<String, Integer> firstSizes = assertCurrentRowsEqualOracle("v1", expected);
    assertTableLayout("v1");

    run(bounded(records), "v1"); // a replay: every key upserted again with the same progress
    assertEquals(firstSizes, assertCurrentRowsEqualOracle("v1", expected), "same table sizes");
  }

  @Test
  void replayedStreamWithLatePanesAndMergedSessionsEqualsTheOracle() throws Exception {
    List<byte[]> values = values(workload(12));
    int tail = values.size();
    values.addAll(mergeScenario(values));
    Oracle.Result expected = Oracle.compute(values, PARAMS);

    run(stream(values, tail), "s1");
    assertCurrentRowsEqualOracle("s1", expected);

    // The panes did supersede each other. Sessions: the merged session has the first session's
    // key (same user, same start), so CDC replaced that row in place; the second session's row
    // has another key and stays in the table, and only the read query leaves it out.
    List<Row> stored =
        storedRows(Views.USER_SESSIONS, "s1").stream()
            .filter(r -> MERGE_USER.equals(r.getString("user_id")))
            .collect(Collectors.toList());
    List<Row> current =
        currentRows(Views.USER_SESSIONS, stored).stream()
            .filter(r -> MERGE_USER.equals(r.getString("user_id")))
            .collect(Collectors.toList());
    assertEquals(2, stored.size(), "merged session and the superseded second one: " + stored);
    assertEquals(1, current.size(), "read: the merged session only: " + current);
    assertEquals(3L, current.get(0).getInt64("events"));
    // Keyed views: one row per key, the last pane (m-5 updated a minute that had fired).
    assertEquals(
        expected.rows(Views.ACTIVITY_PER_MINUTE),
        sorted(Views.ACTIVITY_PER_MINUTE, storedRows(Views.ACTIVITY_PER_MINUTE, "s1")),
        "keyed view: the stored rows are already the answer");
  }

  /** The later of two panes for one key wins even when it is written first. */
  @Test
  void anOlderPaneWrittenLaterDoesNotOverwriteANewerRow() throws Exception {
    Instant minute = Instant.parse("2026-11-25T10:00:00Z");
    Row newer =
        Row.withSchema(Views.ACTIVITY_PER_MINUTE.schema())
            .addValues(minute, "click", 5L, 3L, 0L)
            .build();
    Row older =
        Row.withSchema(Views.ACTIVITY_PER_MINUTE.schema())
            .addValues(minute, "click", 3L, 2L, 0L)
            .build();
    writeRows(Views.ACTIVITY_PER_MINUTE, "o1", newer);
    writeRows(Views.ACTIVITY_PER_MINUTE, "o1", older);
    assertEquals(List.of(newer), storedRows(Views.ACTIVITY_PER_MINUTE, "o1"));
  }

  /** The created tables: the view's columns, its key as primary key, day partitions. */
  private void assertTableLayout(String version) throws Exception {
    for (ViewDefinition view : Views.all()) {
      Table t = datasets.getTable(BigQueryViewTables.table(PROJECT, DATASET, view, version));
      List<String> columns = new ArrayList<>();
      for (TableFieldSchema f : t.getSchema().getFields()) {
        columns.add(f.getName() + " " + f.getType() + " " + f.getMode());
      }
      List<String> want = new ArrayList<>();
      for (Schema.Field f : view.schema().getFields()) {
        String type =
            f.getType().getTypeName() == Schema.TypeName.DATETIME
                ? "TIMESTAMP"
                : f.getType().getTypeName() == Schema.TypeName.STRING ? "STRING" : "INT64";
        want.add(f.getName() + " " + type + " REQUIRED");
      }
      assertEquals(want, columns, view.name() + ": columns");
      assertEquals(
          view.keyColumns(), t.getTableConstraints().getPrimaryKey().getColumns(), "primary key");
      assertEquals("DAY", t.getTimePartitioning().getType());
      assertEquals(BigQueryViewTables.partitionColumn(view), t.getTimePartitioning().getField());
      assertEquals(view.keyColumns(), t.getClustering().getFields(), "clustered by the key");
    }
  }

  // ---- pipelines ----

  private void run(PTransform<PBegin, PCollection<SourceRecord>> source, String version) {
    Pipeline p = Pipeline.create(options());
    Map<ViewDefinition, PTransform<PCollection<Row>, ? extends POutput>> sinks =
        new LinkedHashMap<>();
    for (ViewDefinition view : Views.all()) {
      sinks.put(
          view,
          BigQueryViewSink.of(BigQueryViewTables.table(PROJECT, DATASET, view, version), view)
              .withTestServices(services));
    }
    KappaBeamPipeline.assemble(
        p,
        source,
        ReferenceViews.of(PARAMS),
        new ViewSinks(sinks, new Discard<>(), new Discard<>()));
    assertEquals(PipelineResult.State.DONE, p.run().waitUntilFinish());
  }

  private void writeRows(ViewDefinition view, String version, Row... rows) {
    Pipeline p = Pipeline.create(options());
    p.apply(Create.of(List.of(rows)).withRowSchema(view.schema()))
        .apply(
            BigQueryViewSink.of(BigQueryViewTables.table(PROJECT, DATASET, view, version), view)
                .withTestServices(services));
    assertEquals(PipelineResult.State.DONE, p.run().waitUntilFinish());
  }

  private static org.apache.beam.sdk.options.PipelineOptions options() {
    return PipelineOptionsFactory.fromArgs(
            "--project=" + PROJECT,
            "--credentialFactoryClass=org.apache.beam.sdk.extensions.gcp.auth.NoopCredentialFactory")
        .create();
  }

  private static List<SourceRecord> sourceRecords(List<GeneratedRecord> records) {
    List<SourceRecord> out = new ArrayList<>();
    for (int i = 0; i < records.size(); i++) {
      out.add(new SourceRecord("events", 0, i, records.get(i).key(), records.get(i).value()));
    }
    return out;
  }

  private static PTransform<PBegin, PCollection<SourceRecord>> bounded(
      List<GeneratedRecord> records) {
    List<SourceRecord> source = sourceRecords(records);
    return new PTransform<>() {
      @Override
      public PCollection<SourceRecord> expand(PBegin input) {
        return input.apply("Records", Create.of(source).withCoder(SourceRecord.Coder.of()));
      }
    };
  }

  private static final String MERGE_USER = "u-merge";

  /**
   * Events of one user after the workload, in log order: two sessions 40 minutes apart, another
   * user's event that moves the watermark past both (they fire), then a late event between them
   * (within the allowed lateness) that merges them into one session, and a late event for a minute
   * that already fired (a second, accumulated pane of that key).
   */
  private static List<byte[]> mergeScenario(List<byte[]> workload) {
    long newest = 0;
    for (byte[] v : workload) {
      EventParser.Result r = EventParser.parse(v);
      if (r.isValid()) {
        newest = Math.max(newest, r.event().timestampMillis());
      }
    }
    Instant t = new Instant(newest).plus(Duration.standardHours(1));
    t = t.minus(t.getMillis() % 60_000);
    return List.of(
        event("m-1", MERGE_USER, t),
        event("m-2", MERGE_USER, t.plus(Duration.standardMinutes(40))),
        event("m-3", "u-other", t.plus(Duration.standardMinutes(75))),
        event("m-4", MERGE_USER, t.plus(Duration.standardMinutes(20))),
        event("m-5", "u-other", t.plus(Duration.standardMinutes(40)).plus(1000)));
  }

  private static byte[] event(String id, String user, Instant ts) {
    return ("{\"event_id\":\""
            + id
            + "\",\"user_id\":\""
            + user
            + "\",\"type\":\"view\",\"ts\":\""
            + ts
            + "\"}")
        .getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  private static List<byte[]> values(List<GeneratedRecord> records) {
    List<byte[]> out = new ArrayList<>();
    records.forEach(r -> out.add(r.value()));
    return out;
  }

  /**
   * The log replayed in order with the watermark at the newest event time seen minus {@link #BOUND}
   * (as the Kafka source's watermark would be), advanced after every batch of 20 records, and after
   * every single record from {@code tail} on: windows fire on time, then again for
   * late-within-lateness events (accumulating panes), and late events merge sessions that fired.
   */
  @SuppressWarnings({"unchecked", "rawtypes"}) // addElements takes generic varargs
  private static PTransform<PBegin, PCollection<SourceRecord>> stream(
      List<byte[]> values, int tail) {
    TestStream.Builder<SourceRecord> b = TestStream.create(SourceRecord.Coder.of());
    List<TimestampedValue<SourceRecord>> batch = new ArrayList<>();
    long newest = Long.MIN_VALUE;
    long watermark = Long.MIN_VALUE;
    for (int i = 0; i < values.size(); i++) {
      SourceRecord record = new SourceRecord("events", 0, i, null, values.get(i));
      EventParser.Result parsed = EventParser.parse(values.get(i));
      Instant ts = BoundedWindow.TIMESTAMP_MIN_VALUE;
      if (parsed.isValid()) {
        ts = new Instant(parsed.event().timestampMillis());
        newest = Math.max(newest, parsed.event().timestampMillis());
      }
      batch.add(TimestampedValue.of(record, ts));
      if (batch.size() == 20 || i >= tail - 1) {
        b =
            b.addElements(
                batch.get(0), batch.subList(1, batch.size()).toArray(new TimestampedValue[0]));
        batch.clear();
        if (newest != Long.MIN_VALUE && newest - BOUND.getMillis() > watermark) {
          watermark = newest - BOUND.getMillis();
          b = b.advanceWatermarkTo(new Instant(watermark));
        }
      }
    }
    TestStream<SourceRecord> events = b.advanceWatermarkToInfinity();
    return new PTransform<>() {
      @Override
      public PCollection<SourceRecord> expand(PBegin input) {
        return input.apply("Replay", events);
      }
    };
  }

  /** Drops dead letters and late events (not under test here). */
  static final class Discard<T> extends PTransform<PCollection<T>, PCollection<Void>> {
    @Override
    public PCollection<Void> expand(PCollection<T> input) {
      return input.apply(
          ParDo.of(
              new DoFn<T, Void>() {
                @ProcessElement
                public void process() {}
              }));
    }
  }

  // ---- reading back ----

  /** Compares each view's current rows with the oracle; returns the stored table sizes. */
  private Map<String, Integer> assertCurrentRowsEqualOracle(String version, Oracle.Result expected)
      throws Exception {
    Map<String, Integer> sizes = new LinkedHashMap<>();
    for (ViewDefinition view : Views.all()) {
      List<Row> stored = storedRows(view, version);
      sizes.put(view.name(), stored.size());
      List<Row> current = sorted(view, currentRows(view, stored));
      List<Row> oracle = expected.rows(view);
      assertTrue(oracle.size() > 1, view.name() + ": the oracle view should not be trivial");
      ViewDiff diff = ViewDiff.compare(view, oracle, current);
      if (!diff.isEmpty()) {
        fail(view.name() + " differs from the oracle:\n" + diff.format("oracle", version));
      }
      assertEquals(oracle, current, view.name());
      // The Java reference of the apply rule agrees with the SQL read rule.
      assertEquals(oracle, new ViewTable(view).applyAll(stored).rows(), view.name() + " (Java)");
    }
    return sizes;
  }

  /** Every row of the fake table, as view rows (the fake returns INT64/TIMESTAMP as strings). */
  private List<Row> storedRows(ViewDefinition view, String version) throws Exception {
    TableReference ref = BigQueryViewTables.table(PROJECT, DATASET, view, version);
    List<Row> out = new ArrayList<>();
    for (TableRow tr : datasets.getAllRows(PROJECT, DATASET, ref.getTableId())) {
      Row.Builder b = Row.withSchema(view.schema());
      for (Schema.Field f : view.schema().getFields()) {
        String v = String.valueOf(tr.get(f.getName()));
        switch (f.getType().getTypeName()) {
          case DATETIME:
            b.addValue(new Instant(Long.parseLong(v) / 1000)); // microseconds since the epoch
            break;
          case INT64:
            b.addValue(Long.parseLong(v));
            break;
          default:
            b.addValue(v);
        }
      }
      out.add(b.build());
    }
    return out;
  }

  /** Runs {@link BigQueryViewTables#currentRowsQuery} over {@code stored} on an H2 table. */
  private static List<Row> currentRows(ViewDefinition view, List<Row> stored) throws Exception {
    try (Connection c =
        DriverManager.getConnection(
            "jdbc:h2:mem:bq" + UUID.randomUUID().toString().replace("-", ""))) {
      List<String> defs = new ArrayList<>();
      for (Schema.Field f : view.schema().getFields()) {
        defs.add(q(f.getName()) + " " + h2Type(f));
      }
      try (Statement s = c.createStatement()) {
        s.execute("CREATE TABLE " + q("t") + " (" + String.join(", ", defs) + ")");
      }
      String insert =
          "INSERT INTO "
              + q("t")
              + " VALUES ("
              + view.schema().getFields().stream().map(f -> "?").collect(Collectors.joining(", "))
              + ")";
      try (PreparedStatement ps = c.prepareStatement(insert)) {
        for (Row r : stored) {
          for (int i = 0; i < view.schema().getFieldCount(); i++) {
            Object v = r.getValue(i);
            if (v instanceof org.joda.time.ReadableInstant) {
              v =
                  java.time.Instant.ofEpochMilli(((org.joda.time.ReadableInstant) v).getMillis())
                      .atOffset(ZoneOffset.UTC);
            }
            ps.setObject(i + 1, v);
          }
          ps.addBatch();
        }
        ps.executeBatch();
      }
      List<Row> out = new ArrayList<>();
      String sql = BigQueryViewTables.currentRowsQuery(q("t"), view, BigQueryViewSinkTest::q);
      try (Statement s = c.createStatement();
          ResultSet rs = s.executeQuery(sql)) {
        while (rs.next()) {
          Row.Builder b = Row.withSchema(view.schema());
          for (int i = 0; i < view.schema().getFieldCount(); i++) {
            switch (view.schema().getField(i).getType().getTypeName()) {
              case DATETIME:
                b.addValue(
                    new Instant(
                        rs.getObject(i + 1, OffsetDateTime.class).toInstant().toEpochMilli()));
                break;
              case INT64:
                b.addValue(rs.getLong(i + 1));
                break;
              default:
                b.addValue(rs.getString(i + 1));
            }
          }
          out.add(b.build());
        }
      }
      return out;
    }
  }

  /** Sorted by key, nothing dropped (the oracle's order). */
  private static List<Row> sorted(ViewDefinition view, List<Row> rows) {
    List<Row> out = new ArrayList<>(rows);
    out.sort(java.util.Comparator.comparing(view::key, BigQueryViewSinkTest::compareKeys));
    return out;
  }

  @SuppressWarnings({"unchecked", "rawtypes"}) // key columns are Comparable (String, Instant)
  private static int compareKeys(List<Object> a, List<Object> b) {
    for (int i = 0; i < a.size(); i++) {
      int c = ((Comparable) a.get(i)).compareTo(b.get(i));
      if (c != 0) {
        return c;
      }
    }
    return 0;
  }

  private static String h2Type(Schema.Field f) {
    switch (f.getType().getTypeName()) {
      case DATETIME:
        return "TIMESTAMP WITH TIME ZONE";
      case INT64:
        return "BIGINT";
      default:
        return "VARCHAR";
    }
  }

  private static String q(String identifier) {
    return '"' + identifier + '"';
  }
}
