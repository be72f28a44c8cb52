package dev.kappabeam.transforms;

import dev.kappabeam.transforms.events.DeadLetter;
import dev.kappabeam.transforms.events.Event;
import dev.kappabeam.transforms.events.EventCoder;
import dev.kappabeam.transforms.events.Events;
import dev.kappabeam.transforms.events.ParseEvents;
import dev.kappabeam.transforms.events.SourceRecord;
import dev.kappabeam.transforms.time.SplitLateEvents;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.ViewTransform;
import dev.kappabeam.transforms.views.Views;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;

/**
 * The whole shared logic, from raw records to view rows: {@code ParseEvents} → {@code
 * DeduplicateEvents} → {@code SplitLateEvents} → one composite per view. Every mode (streaming,
 * historical, Kappa reprocess, Lambda batch and speed) and every runner applies this same
 * composite; only the source and the {@link ViewParameters} differ.
 *
 * <p>Bounded input: exact de-duplication, nothing late, one pane per key. Unbounded input: dedup
 * within the horizon, events later than the allowed lateness go to {@link #LATE}, windows fire at
 * the watermark (plus optional early panes) and again for each late-but-allowed event. Outputs:
 * {@link #DEAD_LETTERS}, {@link #LATE} and {@link #rowsOf(ViewDefinition)} for each selected view.
 * Counters (namespace {@value CounterNames#NAMESPACE}): read = accepted + dead_lettered +
 * duplicates_removed + late.
 *
 * <pre>{@code
 * PCollectionTuple out = records.apply("ReferenceViews",
 *     ReferenceViews.of(ViewParameters.defaults()));
 * out.get(ReferenceViews.rowsOf(Views.USER_SESSIONS)).apply(sink);
 * }</pre>
 */
public final class ReferenceViews extends PTransform<PCollection<SourceRecord>, PCollectionTuple> {
  public static final TupleTag<DeadLetter> DEAD_LETTERS = ParseEvents.DEAD_LETTERS;
  public static final TupleTag<Event> LATE = SplitLateEvents.LATE;

  private static final Map<String, TupleTag<Row>> VIEW_TAGS = new HashMap<>();

  static {
    for (ViewDefinition v : Views.all()) {
      VIEW_TAGS.put(v.name(), new TupleTag<>("view:" + v.name()));
    }
  }

  private final ViewParameters parameters;
  private final List<ViewDefinition> views;
  private final boolean userSets;

  private ReferenceViews(ViewParameters parameters, List<ViewDefinition> views, boolean userSets) {
    this.parameters = parameters;
    this.views = List.copyOf(views);
    this.userSets = userSets;
  }

  /** All reference views with the given parameters. */
  public static ReferenceViews of(ViewParameters parameters) {
    return new ReferenceViews(Objects.requireNonNull(parameters, "parameters"), Views.all(), false);
  }

  /** Only these views (others are not computed). */
  public ReferenceViews withViews(List<ViewDefinition> selected) {
    if (selected.isEmpty()) {
      throw new IllegalArgumentException("select at least one view of: " + Views.names());
    }
    return new ReferenceViews(parameters, selected, userSets);
  }

  /**
   * Rows of the Lambda partial tables ({@link Views#lambdaPartial}): {@code activity_per_minute}
   * rows also carry their exact user set, so batch and speed partials merge exactly.
   */
  public ReferenceViews withUserSets() {
    return new ReferenceViews(parameters, views, true);
  }

  public ViewParameters parameters() {
    return parameters;
  }

  public List<ViewDefinition> views() {
    return views;
  }

  /** The output tag of a view's rows. */
  public static TupleTag<Row> rowsOf(ViewDefinition view) {
    return Objects.requireNonNull(VIEW_TAGS.get(view.name()), view.name());
  }

  @Override
  public PCollectionTuple expand(PCollection<SourceRecord> records) {
    PCollectionTuple parsed = records.apply("ParseEvents", Events.parse());
    PCollection<Event> unique =
        parsed
            .get(ParseEvents.EVENTS)
            .apply(
                "DeduplicateEvents", Events.deduplicate().withHorizon(parameters.dedupHorizon()));
    PCollectionTuple split =
        unique.apply(
            "SplitLateEvents", SplitLateEvents.withAllowedLateness(parameters.allowedLateness()));
    PCollection<Event> accepted =
        split
            .get(SplitLateEvents.ON_TIME)
            .apply(
                "AcceptForViews",
                ParDo.of(new AcceptFn(new ArrayList<>(parameters.excludedTypes()))))
            .setCoder(EventCoder.of());

    PCollectionTuple out =
        PCollectionTuple.of(DEAD_LETTERS, parsed.get(ParseEvents.DEAD_LETTERS))
            .and(LATE, split.get(SplitLateEvents.LATE));
    for (ViewDefinition view : views) {
      out = out.and(rowsOf(view), accepted.apply(stepName(view), transformFor(view)));
    }
    return out;
  }

  private ViewTransform<?> transformFor(ViewDefinition view) {
    switch (view.name()) {
      case "activity_per_minute":
        return userSets
            ? Views.activityPerMinuteWithUsers(parameters)
            : Views.activityPerMinute(parameters);
      case "item_revenue_hourly":
        return Views.itemRevenueHourly(parameters);
      case "user_sessions":
        return Views.userSessions(parameters);
      default:
        throw new IllegalArgumentException("unknown view " + view + "; known: " + Views.names());
    }
  }

  /** {@code activity_per_minute} → {@code ActivityPerMinute}: stable step names. */
  static String stepName(ViewDefinition view) {
    StringBuilder b = new StringBuilder();
    for (String part : view.name().split("_")) {
      b.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
    }
    return b.toString();
  }

  /** Counts events that reach the views; drops the excluded types (a logic parameter). */
  static final class AcceptFn extends DoFn<Event, Event> {
    private final List<dev.kappabeam.transforms.events.EventType> excluded;
    private final Counter accepted = Metrics.counter(CounterNames.NAMESPACE, CounterNames.ACCEPTED);

    AcceptFn(List<dev.kappabeam.transforms.events.EventType> excluded) {
      this.excluded = excluded;
    }

    @ProcessElement
    public void process(@Element Event e, OutputReceiver<Event> out) {
      accepted.inc();
      if (!excluded.contains(e.type())) {
        out.output(e);
      }
    }
  }
}
