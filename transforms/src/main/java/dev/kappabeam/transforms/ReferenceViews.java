package dev.kappabeam.transforms;

import dev.kappabeam.transforms.events.CountFrom;
import dev.kappabeam.transforms.events.DeadLetter;
import dev.kappabeam.transforms.events.DeduplicateEvents;
import dev.kappabeam.transforms.events.Event;
import dev.kappabeam.transforms.events.EventCoder;
import dev.kappabeam.transforms.events.EventParser;
import dev.kappabeam.transforms.events.Events;
import dev.kappabeam.transforms.events.ParseEvents;
import dev.kappabeam.transforms.events.SourceRecord;
import dev.kappabeam.transforms.time.SplitLateEvents;
import dev.kappabeam.transforms.time.Timestamps;
import dev.kappabeam.transforms.views.BoundedViews;
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
import org.apache.beam.sdk.values.TupleTagList;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.joda.time.Instant;

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
  private final @Nullable CountFrom countFrom;

  private ReferenceViews(
      ViewParameters parameters,
      List<ViewDefinition> views,
      boolean userSets,
      @Nullable CountFrom countFrom) {
    this.parameters = parameters;
    this.views = List.copyOf(views);
    this.userSets = userSets;
    this.countFrom = countFrom;
  }

  /** All reference views with the given parameters. */
  public static ReferenceViews of(ViewParameters parameters) {
    return new ReferenceViews(
        Objects.requireNonNull(parameters, "parameters"), Views.all(), false, null);
  }

  /** Only these views (others are not computed). */
  public ReferenceViews withViews(List<ViewDefinition> selected) {
    if (selected.isEmpty()) {
      throw new IllegalArgumentException("select at least one view of: " + Views.names());
    }
    return new ReferenceViews(parameters, selected, userSets, countFrom);
  }

  /**
   * Rows of the Lambda partial tables ({@link Views#lambdaPartial}): {@code activity_per_minute}
   * rows also carry their exact user set, so batch and speed partials merge exactly.
   */
  public ReferenceViews withUserSets() {
    return new ReferenceViews(parameters, views, true, countFrom);
  }

  /**
   * The Lambda speed layer: records before {@code cutoff} were counted by the batch run; they are
   * read only to prime the de-duplication ({@link DeduplicateEvents#primed}) and then dropped,
   * counted as {@code primed} (not as read, not dead-lettered again).
   */
  public ReferenceViews withCountFrom(CountFrom cutoff) {
    return new ReferenceViews(
        parameters, views, userSets, Objects.requireNonNull(cutoff, "cutoff"));
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
    DeduplicateEvents dedup = Events.deduplicate().withHorizon(parameters.dedupHorizon());
    PCollectionTuple parsed;
    PCollection<Event> unique;
    if (countFrom == null) {
      parsed = records.apply("ParseEvents", Events.parse());
      unique = parsed.get(ParseEvents.EVENTS).apply("DeduplicateEvents", dedup);
    } else {
      PCollectionTuple split =
          records.apply(
              "SplitAtCutoff",
              ParDo.of(new SplitAtCutoffFn(countFrom))
                  .withOutputTags(COUNTED, TupleTagList.of(DeduplicateEvents.PRIMER)));
      parsed =
          split.get(COUNTED).setCoder(SourceRecord.Coder.of()).apply("ParseEvents", Events.parse());
      unique =
          PCollectionTuple.of(DeduplicateEvents.EVENTS, parsed.get(ParseEvents.EVENTS))
              .and(
                  DeduplicateEvents.PRIMER,
                  split.get(DeduplicateEvents.PRIMER).setCoder(EventCoder.of()))
              .apply("DeduplicateEvents", dedup.primed(countFrom.primerNewest()));
    }
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
    if (accepted.isBounded() == PCollection.IsBounded.BOUNDED) {
      // Bounded: all views from one pass over the events (BoundedViews), not one copy per view.
      List<TupleTag<Row>> tags = new ArrayList<>();
      List<String> names = new ArrayList<>();
      List<ViewTransform<?>> transforms = new ArrayList<>();
      for (ViewDefinition view : views) {
        tags.add(rowsOf(view));
        names.add(stepName(view));
        transforms.add(transformFor(view));
      }
      PCollectionTuple rows = accepted.apply("Views", BoundedViews.of(tags, names, transforms));
      for (TupleTag<Row> tag : tags) {
        out = out.and(tag, rows.get(tag));
      }
      return out;
    }
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

  private static final TupleTag<SourceRecord> COUNTED = new TupleTag<SourceRecord>("counted") {};

  /**
   * Records at or after the cutoff go on to {@code ParseEvents}; valid records before it become
   * primer events (malformed ones were dead-lettered by the batch run); all of those count as
   * {@code primed}.
   */
  static final class SplitAtCutoffFn extends DoFn<SourceRecord, SourceRecord> {
    private final CountFrom cutoff;
    private final Counter primed = Metrics.counter(CounterNames.NAMESPACE, CounterNames.PRIMED);

    SplitAtCutoffFn(CountFrom cutoff) {
      this.cutoff = cutoff;
    }

    @ProcessElement
    public void process(@Element SourceRecord r, MultiOutputReceiver out) {
      if (cutoff.counts(r)) {
        out.get(COUNTED).output(r);
        return;
      }
      primed.inc();
      EventParser.Result parsed = EventParser.parse(r.value());
      if (parsed.isValid()) {
        Event e = parsed.event();
        out.get(DeduplicateEvents.PRIMER).outputWithTimestamp(e, new Instant(e.timestampMillis()));
      }
    }

    @Override
    @SuppressWarnings("deprecation")
    public org.joda.time.Duration getAllowedTimestampSkew() {
      return Timestamps.ANY_SKEW;
    }
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
