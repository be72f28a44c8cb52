package dev.kappabeam.transforms;

import dev.kappabeam.transforms.events.BoundedDedup;
import dev.kappabeam.transforms.events.CountFrom;
import dev.kappabeam.transforms.events.DeadLetter;
import dev.kappabeam.transforms.events.DeduplicateEvents;
import dev.kappabeam.transforms.events.Event;
import dev.kappabeam.transforms.events.EventCoder;
import dev.kappabeam.transforms.events.EventParser;
import dev.kappabeam.transforms.events.EventType;
import dev.kappabeam.transforms.events.Events;
import dev.kappabeam.transforms.events.ParseEvents;
import dev.kappabeam.transforms.events.SourceRecord;
import dev.kappabeam.transforms.time.SplitLateEvents;
import dev.kappabeam.transforms.time.Timestamps;
import dev.kappabeam.transforms.views.BoundedViews;
import dev.kappabeam.transforms.views.CombineSessions;
import dev.kappabeam.transforms.views.ViewCatalog;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.ViewSpec;
import dev.kappabeam.transforms.views.ViewTransform;
import dev.kappabeam.transforms.views.Views;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.checkerframework.checker.nullness.qual.Nullable;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * The whole shared logic, from raw records to view rows: {@code ParseEvents} → {@code
 * DeduplicateEvents} → {@code SplitLateEvents} → one composite per view (on unbounded input the
 * de-duplication and the late split share one keyed step, {@link
 * SplitLateEvents#afterDeduplication}). Every mode (streaming, historical, Kappa reprocess, Lambda
 * batch and speed) and every runner applies this same composite; only the source and the {@link
 * ViewParameters} differ.
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

  private final ViewParameters parameters;
  private final List<ViewSpec> specs;
  private final List<ViewDefinition> views;
  private final boolean lambdaPartials;
  private final @Nullable CountFrom countFrom;

  private ReferenceViews(
      ViewParameters parameters,
      List<ViewSpec> specs,
      boolean lambdaPartials,
      @Nullable CountFrom countFrom) {
    this.parameters = parameters;
    this.specs = List.copyOf(specs);
    List<ViewDefinition> definitions = new ArrayList<>();
    for (ViewSpec spec : specs) {
      definitions.add(spec.definition());
    }
    this.views = List.copyOf(definitions);
    this.lambdaPartials = lambdaPartials;
    this.countFrom = countFrom;
  }

  /** All reference views with the given parameters. */
  public static ReferenceViews of(ViewParameters parameters) {
    return new ReferenceViews(
        Objects.requireNonNull(parameters, "parameters"), Views.specs(), false, null);
  }

  /**
   * Only these views (others are not computed), found by name in {@link ViewCatalog#current()}:
   * reference views and those of any {@link dev.kappabeam.transforms.views.ViewProvider}.
   */
  public ReferenceViews withViews(List<ViewDefinition> selected) {
    ViewCatalog catalog = ViewCatalog.current();
    List<ViewSpec> chosen = new ArrayList<>();
    for (ViewDefinition view : selected) {
      chosen.add(catalog.require(view.name()));
    }
    return withSpecs(chosen);
  }

  /** Only these views (others are not computed). */
  public ReferenceViews withSpecs(List<? extends ViewSpec> selected) {
    if (selected.isEmpty()) {
      throw new IllegalArgumentException(
          "select at least one view of: " + ViewCatalog.current().names());
    }
    return new ReferenceViews(parameters, new ArrayList<>(selected), lambdaPartials, countFrom)
        .checked();
  }

  /**
   * Rows of the Lambda partial tables ({@link Views#lambdaPartial}): {@code activity_per_minute}
   * rows also carry their exact user set, so batch and speed partials merge exactly. Refused for a
   * view with no merge rule.
   */
  public ReferenceViews withUserSets() {
    return new ReferenceViews(parameters, specs, true, countFrom).checked();
  }

  private ReferenceViews checked() {
    if (lambdaPartials) {
      for (ViewSpec spec : specs) {
        if (Views.lambdaPartial(spec, parameters).isEmpty()) {
          throw new IllegalArgumentException(
              "view "
                  + spec.definition().name()
                  + " ("
                  + ViewCatalog.origin(spec)
                  + ") has no Lambda merge rule: kb batch and kb speed cannot build it; run it"
                  + " with kb run or kb reprocess (Kappa)");
        }
      }
    }
    return this;
  }

  /**
   * The Lambda speed layer: records before {@code cutoff} were counted by the batch run; they are
   * read only to prime the de-duplication ({@link DeduplicateEvents#primed}) and then dropped,
   * counted as {@code primed} (not as read, not dead-lettered again).
   */
  public ReferenceViews withCountFrom(CountFrom cutoff) {
    return new ReferenceViews(
        parameters, specs, lambdaPartials, Objects.requireNonNull(cutoff, "cutoff"));
  }

  public ViewParameters parameters() {
    return parameters;
  }

  public List<ViewDefinition> views() {
    return views;
  }

  /** The output tag of a view's rows. */
  public static TupleTag<Row> rowsOf(ViewDefinition view) {
    return new TupleTag<>("view:" + view.name());
  }

  @Override
  public PCollectionTuple expand(PCollection<SourceRecord> records) {
    if (countFrom == null && records.isBounded() == PCollection.IsBounded.BOUNDED) {
      return expandBounded(records);
    }
    SplitLateEvents late = SplitLateEvents.withAllowedLateness(parameters.allowedLateness());
    PCollectionTuple parsed;
    PCollectionTuple split;
    if (countFrom == null) {
      // One keyed step de-duplicates and compares with the watermark: one shuffle fewer.
      parsed = records.apply("ParseEvents", Events.parse());
      split =
          parsed
              .get(ParseEvents.EVENTS)
              .apply("DeduplicateAndSplitLate", late.afterDeduplication(parameters.dedupHorizon()));
    } else {
      PCollectionTuple cut =
          records.apply(
              "SplitAtCutoff",
              ParDo.of(new SplitAtCutoffFn(countFrom))
                  .withOutputTags(COUNTED, TupleTagList.of(DeduplicateEvents.PRIMER)));
      parsed =
          cut.get(COUNTED).setCoder(SourceRecord.Coder.of()).apply("ParseEvents", Events.parse());
      split =
          PCollectionTuple.of(DeduplicateEvents.EVENTS, parsed.get(ParseEvents.EVENTS))
              .and(
                  DeduplicateEvents.PRIMER,
                  cut.get(DeduplicateEvents.PRIMER).setCoder(EventCoder.of()))
              .apply(
                  "DeduplicateEvents",
                  Events.deduplicate()
                      .withHorizon(parameters.dedupHorizon())
                      .primed(countFrom.primerNewest()))
              .apply("SplitLateEvents", late);
    }
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
      // Bounded with a cutoff (primer copies): all views from one pass (BoundedViews).
      BoundedViews bounded = boundedViews();
      PCollectionTuple rows = accepted.apply("Views", bounded);
      for (ViewDefinition view : views) {
        out = out.and(rowsOf(view), rows.get(rowsOf(view)));
      }
      return out;
    }
    for (ViewSpec spec : specs) {
      ViewDefinition view = spec.definition();
      out = out.and(rowsOf(view), accepted.apply(stepName(view), transformFor(spec)));
    }
    return out;
  }

  /**
   * Bounded input in three steps, each fused with its neighbours on every runner: records parsed
   * straight into hash-bucket lists of the event_id ({@link BoundedDedup#parseIntoBuckets}; dead
   * letters ride in the lists), the lists grouped by bucket, then per bucket one copy per event_id
   * kept, accepted and folded into every view's partials in one pass ({@link KeepFoldFn}); the
   * partials are then merged per view ({@link BoundedViews#rowsFrom}). The same parts as {@code
   * ParseEvents} → {@code DeduplicateEvents} → {@code AcceptForViews} → {@link BoundedViews}, with
   * no step of two outputs before the partials: Beam 2.62's Flink batch runner serialises such a
   * step's whole output and decodes it once per output (a sixth of a historical replay's time).
   */
  private PCollectionTuple expandBounded(PCollection<SourceRecord> records) {
    BoundedViews bounded = boundedViews();
    List<TupleTag<KV<KV<String, Long>, CombineSessions.Partial<Object>>>> partialTags =
        bounded.partialTags();
    TupleTagList others =
        TupleTagList.of(new ArrayList<>(partialTags.subList(1, partialTags.size())));
    PCollectionTuple folded =
        records
            .apply("ParseEvents", BoundedDedup.parseIntoBuckets())
            .apply("GroupBuckets", GroupByKey.create())
            .apply(
                "KeepOneCopyAndFold",
                ParDo.of(
                        new KeepFoldFn(
                            new ArrayList<>(parameters.excludedTypes()),
                            bounded.folds(),
                            partialTags))
                    .withOutputTags(partialTags.get(0), others.and(DEAD_LETTERS)));
    PCollection<DeadLetter> deadLetters = folded.get(DEAD_LETTERS).setCoder(DeadLetter.Coder.of());
    PCollectionTuple out =
        PCollectionTuple.of(DEAD_LETTERS, deadLetters)
            .and(LATE, records.getPipeline().apply("NoLateEvents", Create.empty(EventCoder.of())));
    PCollectionTuple rows = bounded.rowsFrom(folded);
    for (ViewDefinition view : views) {
      out = out.and(rowsOf(view), rows.get(rowsOf(view)));
    }
    return out;
  }

  /** The selected views for bounded input, folded in one pass. */
  private BoundedViews boundedViews() {
    List<TupleTag<Row>> tags = new ArrayList<>();
    List<String> names = new ArrayList<>();
    List<ViewTransform<?>> transforms = new ArrayList<>();
    for (ViewSpec spec : specs) {
      tags.add(rowsOf(spec.definition()));
      names.add(stepName(spec.definition()));
      transforms.add(transformFor(spec));
    }
    return BoundedViews.of(tags, names, transforms);
  }

  /**
   * One bucket's lists: one copy per event_id kept ({@link BoundedDedup#keepOneCopy}), counted as
   * accepted, folded into the views that take its type; the dead letters that rode along go out.
   */
  static final class KeepFoldFn
      extends DoFn<
          KV<Integer, Iterable<BoundedDedup.Bucketed>>,
          KV<KV<String, Long>, CombineSessions.Partial<Object>>> {
    private final List<EventType> excluded;
    private final BoundedViews.Folds folds;
    private final List<TupleTag<KV<KV<String, Long>, CombineSessions.Partial<Object>>>> tags;
    private final Counter accepted = Metrics.counter(CounterNames.NAMESPACE, CounterNames.ACCEPTED);

    KeepFoldFn(
        List<EventType> excluded,
        BoundedViews.Folds folds,
        List<TupleTag<KV<KV<String, Long>, CombineSessions.Partial<Object>>>> tags) {
      this.excluded = excluded;
      this.folds = folds;
      this.tags = new ArrayList<>(tags);
    }

    @StartBundle
    public void startBundle() {
      folds.start();
    }

    @ProcessElement
    public void process(
        @Element KV<Integer, Iterable<BoundedDedup.Bucketed>> bucket, MultiOutputReceiver out) {
      BoundedViews.PartialOutput partials =
          (view, p, ts) -> out.get(tags.get(view)).outputWithTimestamp(p, ts);
      long[] kept = {0};
      BoundedDedup.keepOneCopy(
          bucket.getValue(),
          new BoundedDedup.Kept() {
            @Override
            public void event(Event e) {
              kept[0]++;
              if (!excluded.contains(e.type())) {
                folds.add(e, new Instant(e.timestampMillis()), partials);
              }
            }

            @Override
            public void deadLetter(DeadLetter d) {
              out.get(DEAD_LETTERS).output(d);
            }
          });
      accepted.inc(kept[0]);
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext out) {
      folds.finish((view, p, ts) -> out.output(tags.get(view), p, ts, GlobalWindow.INSTANCE));
    }

    /** Partials and events carry their own event times, behind the group's timestamp. */
    @Override
    @SuppressWarnings("deprecation")
    public Duration getAllowedTimestampSkew() {
      return Timestamps.ANY_SKEW;
    }
  }

  private ViewTransform<?> transformFor(ViewSpec spec) {
    return lambdaPartials
        ? Views.lambdaPartial(spec, parameters).orElseThrow()
        : spec.transform(parameters);
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
    private final List<EventType> excluded;
    private final Counter accepted = Metrics.counter(CounterNames.NAMESPACE, CounterNames.ACCEPTED);
    private transient long n;

    AcceptFn(List<EventType> excluded) {
      this.excluded = excluded;
    }

    @ProcessElement
    public void process(@Element Event e, OutputReceiver<Event> out) {
      n++;
      if (!excluded.contains(e.type())) {
        out.output(e);
      }
    }

    /** Counted once per bundle: each increment looks up the step's metrics in a thread-local. */
    @FinishBundle
    public void finishBundle() {
      if (n > 0) {
        accepted.inc(n);
        n = 0;
      }
    }
  }
}
