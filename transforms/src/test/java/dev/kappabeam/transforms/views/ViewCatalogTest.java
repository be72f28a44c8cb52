package dev.kappabeam.transforms.views;

import static dev.kappabeam.transforms.TestRecords.T0;
import static dev.kappabeam.transforms.TestRecords.at;
import static dev.kappabeam.transforms.TestRecords.event;
import static dev.kappabeam.transforms.TestRecords.purchase;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import dev.kappabeam.transforms.LogViews;
import dev.kappabeam.transforms.ReferenceViews;
import dev.kappabeam.transforms.events.Event;
import dev.kappabeam.transforms.events.SourceRecord;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TimestampedValue;
import org.joda.time.Duration;
import org.joda.time.Instant;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * A team's views through the public API ({@link ViewProvider}, {@link ViewSpec}, {@link
 * ViewTransform#of}): found by {@link java.util.ServiceLoader} next to the reference views, and
 * computed by the same machinery, bounded and unbounded, with the same rows.
 */
public class ViewCatalogTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();
  @Rule public final TemporaryFolder folder = new TemporaryFolder();

  private static final Instant H11 = T0.plus(Duration.standardHours(1));

  /** Purchases of two users over two hours, a view (not a purchase) and a re-sent purchase. */
  private static List<TimestampedValue<SourceRecord>> records() {
    TimestampedValue<SourceRecord> first = purchase("e-1", "u-1", "sku-1", 1000, at(0, 0));
    return List.of(
        first,
        event("e-2", "u-1", "view", at(5, 0)),
        purchase("e-3", "u-1", "sku-2", 500, at(10, 0)),
        purchase("e-4", "u-2", "sku-1", 250, at(30, 0)),
        purchase("e-5", "u-1", "sku-1", 100, at(70, 0)),
        TimestampedValue.of(
            new SourceRecord("events", 0, 99, null, first.getValue().value()),
            first.getTimestamp()));
  }

  private static List<Row> expectedHours() {
    return List.of(
        TestViewProvider.hourRow("u-1", stats(2, 1500), window(T0)),
        TestViewProvider.hourRow("u-2", stats(1, 250), window(T0)),
        TestViewProvider.hourRow("u-1", stats(1, 100), window(H11)));
  }

  private static List<Row> expectedSessions() {
    Schema s = TestViewProvider.BUYING_SESSIONS.schema();
    return List.of(
        Row.withSchema(s).addValues("u-1", at(0, 0), at(10, 0), 2L).build(),
        Row.withSchema(s).addValues("u-1", at(70, 0), at(70, 0), 1L).build(),
        Row.withSchema(s).addValues("u-2", at(30, 0), at(30, 0), 1L).build());
  }

  private static ItemStats stats(long purchases, long revenue) {
    return new ItemStats(purchases, revenue);
  }

  private static org.apache.beam.sdk.transforms.windowing.IntervalWindow window(Instant start) {
    return new org.apache.beam.sdk.transforms.windowing.IntervalWindow(
        start, start.plus(Duration.standardHours(1)));
  }

  private static LogViews<Event> withPlugin() {
    return ReferenceViews.of(ViewParameters.defaults())
        .withSpecs(
            List.of(
                new TestViewProvider.PurchasesPerUserHourly(),
                new TestViewProvider.BuyingSessions(),
                Views.specs().get(1)));
  }

  @Test
  public void aPluginsViewsOnBoundedInputAreComputedByTheSameMachinery() {
    PCollectionTuple out = p.apply(Create.timestamped(records())).apply(withPlugin());
    assertRows(out, true);
    p.run();
  }

  @Test
  public void aPluginsViewsOnAStreamGiveTheSameRows() {
    TestStream.Builder<SourceRecord> stream = TestStream.create(SourceRecord.Coder.of());
    for (TimestampedValue<SourceRecord> r : records()) {
      stream = stream.addElements(r);
    }
    PCollectionTuple out =
        p.apply(stream.advanceWatermarkTo(at(200, 0)).advanceWatermarkToInfinity())
            .apply(withPlugin());
    assertRows(out, false);
    p.run();
  }

  /**
   * The rows of each view. A stream's panes accumulate (a sink upserts them), so a key's row may
   * come more than once there: the distinct rows must be the expected ones; bounded runs write one
   * row per key.
   */
  private static void assertRows(PCollectionTuple out, boolean bounded) {
    assertRows(
        out.get(ReferenceViews.rowsOf(TestViewProvider.PURCHASES_PER_USER_HOURLY)),
        expectedHours(),
        bounded);
    assertRows(
        out.get(ReferenceViews.rowsOf(TestViewProvider.BUYING_SESSIONS)),
        expectedSessions(),
        bounded);
    // The reference view beside them is unchanged: purchases of sku-1 and sku-2 per hour.
    assertRows(
        out.get(ReferenceViews.rowsOf(Views.ITEM_REVENUE_HOURLY)),
        List.of(
            dev.kappabeam.transforms.TestRecords.itemRevenue(T0, "sku-1", 2, 1250),
            dev.kappabeam.transforms.TestRecords.itemRevenue(T0, "sku-2", 1, 500),
            dev.kappabeam.transforms.TestRecords.itemRevenue(H11, "sku-1", 1, 100)),
        bounded);
  }

  private static void assertRows(PCollection<Row> rows, List<Row> expected, boolean bounded) {
    if (bounded) {
      PAssert.that(rows).containsInAnyOrder(expected);
      return;
    }
    PAssert.that(rows)
        .satisfies(
            actual -> {
              java.util.Set<Row> distinct = new java.util.HashSet<>();
              actual.forEach(distinct::add);
              assertEquals(new java.util.HashSet<>(expected), distinct);
              return null;
            });
  }

  @Test
  public void providersAreFoundByServiceLoaderAfterTheReferenceViews() throws IOException {
    ViewCatalog catalog = ViewCatalog.load(loaderWith(TestViewProvider.class.getName()));
    assertEquals(
        List.of(
            "activity_per_minute",
            "item_revenue_hourly",
            "user_sessions",
            "purchases_per_user_hourly",
            "buying_sessions"),
        catalog.definitions().stream().map(ViewDefinition::name).collect(Collectors.toList()));
    ViewSpec spec = catalog.require("buying_sessions");
    assertEquals(TestViewProvider.class.getName(), ViewCatalog.origin(spec));
    assertEquals("reference", ViewCatalog.origin(catalog.require("user_sessions")));
    IllegalArgumentException unknown =
        assertThrows(IllegalArgumentException.class, () -> catalog.require("nope"));
    assertTrue(unknown.getMessage(), unknown.getMessage().contains("buying_sessions"));
  }

  @Test
  public void withoutProvidersTheCatalogHoldsTheReferenceViews() {
    ViewCatalog catalog = ViewCatalog.load(new URLClassLoader(new URL[0], null));
    assertEquals(Views.all(), catalog.definitions());
  }

  @Test
  public void aNameTakenTwiceIsRefusedWithBothOrigins() {
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () ->
                ViewCatalog.of(
                    List.of(
                        new TestViewProvider.BuyingSessions(),
                        new TestViewProvider.BuyingSessions())));
    assertTrue(e.getMessage(), e.getMessage().contains("two views are named buying_sessions"));
  }

  @Test
  public void aProviderThatCannotLoadFailsWithItsName() throws IOException {
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> ViewCatalog.load(loaderWith("com.example.NoSuchProvider")));
    assertTrue(e.getMessage(), e.getMessage().contains("com.example.NoSuchProvider"));
  }

  @Test
  public void aPluginsViewsHaveNoLambdaMergeRuleSoBatchAndSpeedRefuseThem() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                ReferenceViews.of(ViewParameters.defaults())
                    .withSpecs(List.of(new TestViewProvider.BuyingSessions()))
                    .withUserSets());
    assertTrue(e.getMessage(), e.getMessage().contains("buying_sessions"));
    assertTrue(e.getMessage(), e.getMessage().contains("kb batch and kb speed cannot build it"));
    // Reference views have one.
    ReferenceViews.of(ViewParameters.defaults()).withUserSets();
  }

  @Test
  public void definitionsRefuseNamesAndColumnsThatCannotBeTablesAndAMissingProgressColumn() {
    Schema ok = Schema.builder().addStringField("k").addInt64Field("n").build();
    for (String bad : List.of("Bad", "a-b", "a__b", "_a", "1a", "a".repeat(41), "")) {
      assertThrows(
          bad,
          IllegalArgumentException.class,
          () -> ViewDefinition.keyed(bad, ok, List.of("k"), "n"));
    }
    assertThrows(
        IllegalArgumentException.class,
        () ->
            ViewDefinition.keyed(
                "v", Schema.builder().addStringField("K\"; drop").build(), List.of(), "n"));
    assertThrows(
        IllegalArgumentException.class,
        () -> ViewDefinition.keyed("v", ok, List.of("k"), "k")); // not INT64
    assertThrows(
        IllegalArgumentException.class,
        () -> ViewDefinition.keyed("v", ok, List.of("missing"), "n"));
    assertThrows(
        IllegalArgumentException.class,
        () -> ViewDefinition.sessions("v", ok, "k", "n", "n")); // no DATETIME start / end
    assertEquals("v_2", ViewDefinition.keyed("v_2", ok, List.of("k"), "n").name());
  }

  @Test
  public void theBuilderRefusesWindowsThatDoNotFitTheKindOfView() {
    assertThrows(
        IllegalArgumentException.class,
        () ->
            ViewTransform.of(TestViewProvider.BUYING_SESSIONS, ViewParameters.defaults())
                .keyedBy(e -> e.userId())
                .fixedWindows(Duration.standardHours(1))
                .aggregating(
                    new SessionStats.Fn(),
                    SessionStats.StatsCoder.of(),
                    TestViewProvider::sessionRow));
    assertThrows(
        IllegalStateException.class,
        () ->
            ViewTransform.of(TestViewProvider.PURCHASES_PER_USER_HOURLY, ViewParameters.defaults())
                .aggregating(
                    new ItemStats.Fn(), ItemStats.StatsCoder.of(), TestViewProvider::hourRow));
  }

  /** A class loader whose META-INF/services names {@code providers} as view providers. */
  private URLClassLoader loaderWith(String... providers) throws IOException {
    Path root = folder.newFolder().toPath();
    Path services = root.resolve("META-INF/services");
    Files.createDirectories(services);
    Files.writeString(
        services.resolve(ViewProvider.class.getName()),
        String.join("\n", providers) + "\n",
        StandardCharsets.UTF_8);
    return new URLClassLoader(new URL[] {root.toUri().toURL()}, getClass().getClassLoader());
  }
}
