package dev.kappabeam.transforms;

import dev.kappabeam.transforms.events.BoundedDedup;
import dev.kappabeam.transforms.events.CountFrom;
import dev.kappabeam.transforms.events.DeadLetter;
import dev.kappabeam.transforms.events.DeduplicateEvents;
import dev.kappabeam.transforms.events.EventFormat;
import dev.kappabeam.transforms.events.EventType;
import dev.kappabeam.transforms.events.Events;
import dev.kappabeam.transforms.events.ParseEvents;
import dev.kappabeam.transforms.events.Parsed;
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
import org.apache.beam.sdk.transforms.SerializableFunction;
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
 * The whole shared logic for events of one {@link EventFormat}, from raw records to view rows:
 * {@code ParseEvents} → {@code DeduplicateEvents} → {@code SplitLateEvents} → one composite per
 * view (on unbounded input the de-duplication and the late split share one keyed step, {@link
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
 * PCollectionTuple out = records.apply("Views", ReferenceViews.of(ViewParameters.defaults()));
 * out.get(LogViews.rowsOf(Views.USER_SESSIONS)).apply(sink);
 * LogViews<?> orders = LogViews.of(catalog.specsNamed(List.of("revenue_per_currency")), p);
 * }</pre>
 */
public final class LogViews<E> extends PTransform<PCollection<SourceRecord>, PCollectionTuple> {
  public static final TupleTag<DeadLetter> DEAD_LETTERS = ParseEvents.DEAD_LETTERS;

  private final EventFormat<E> format;
  private final ViewParameters parameters;
  private final List<ViewSpec<E>> specs;
  private final List<ViewDefinition> views;
  private final boolean lambdaPartials;
  private final @Nullable CountFrom countFrom;

  private LogViews(
      EventFormat<E> format,
      ViewParameters parameters,
      List<ViewSpec<E>> specs,
      boolean lambdaPartials,
      @Nullable CountFrom countFrom) {
    this.format = format;
    this.parameters = parameters;
    this.specs = List.copyOf(specs);
    List<ViewDefinition> definitions = new ArrayList<>();
    for (ViewSpec<E> spec : specs) {
      definitions.add(spec.definition());
    }
    this.views = List.copyOf(definitions);
    this.lambdaPartials = lambdaPartials;
    this.countFrom = countFrom;
    format.accepting(excludedTypeNames(parameters)); // refuses excluded types a format lacks
  }

  /** These views (at least one), which must all read the same event format. */
  public static LogViews<?> of(List<? extends ViewSpec<?>> selected, ViewParameters parameters) {
    Objects.requireNonNull(parameters, "parameters");
    if (selected.isEmpty()) {
      throw new IllegalArgumentException(
          "select at least one view of: " + ViewCatalog.current().names());
    }
    return typed(selected.get(0), selected, parameters);
  }

  private static <E> LogViews<E> typed(
      ViewSpec<E> first, List<? extends ViewSpec<?>> selected, ViewParameters parameters) {
    return new LogViews<>(first.format(), parameters, sameFormat(first, selected), false, null)
        .checked();
  }

  /** {@code selected} as views of {@code first}'s format, or an error naming the odd one out. */
  @SuppressWarnings("unchecked")
  private static <E> List<ViewSpec<E>> sameFormat(
      ViewSpec<E> first, List<? extends ViewSpec<?>> selected) {
    String name = first.format().name();
    List<ViewSpec<E>> typed = new ArrayList<>();
    for (ViewSpec<?> spec : selected) {
      String other = spec.format().name();
      if (!other.equals(name) || spec.format().getClass() != first.format().getClass()) {
        throw new IllegalArgumentException(
            "views "
                + first.definition().name()
                + " and "
                + spec.definition().name()
                + " read different event formats ("
                + name
                + ", "
                + other
                + "): a run reads its topic with one format; run them separately");
      }
      typed.add((ViewSpec<E>) spec);
    }
    return typed;
  }

  /**
   * Only these views (others are not computed), found by name in {@link ViewCatalog#current()}:
   * reference views and those of any {@link dev.kappabeam.transforms.views.ViewProvider}; they must
   * read this composite's event format.
   */
  public LogViews<E> withViews(List<ViewDefinition> selected) {
    ViewCatalog catalog = ViewCatalog.current();
    List<ViewSpec<?>> chosen = new ArrayList<>();
    for (ViewDefinition view : selected) {
      chosen.add(catalog.require(view.name()));
    }
    return withSpecs(chosen);
  }

  /** Only these views (others are not computed); they must read this composite's format. */
  public LogViews<E> withSpecs(List<? extends ViewSpec<?>> selected) {
    if (selected.isEmpty()) {
      throw new IllegalArgumentException(
          "select at least one view of: " + ViewCatalog.current().names());
    }
    return new LogViews<>(
            format, parameters, sameFormat(specs.get(0), selected), lambdaPartials, countFrom)
        .checked();
  }

  /** The event format of the records. */
  public EventFormat<E> format() {
    return format;
  }

  /** The tag of the events later than the allowed lateness (unbounded input only has any). */
  public TupleTag<E> late() {
    return SplitLateEvents.late();
  }

  private static List<String> excludedTypeNames(ViewParameters parameters) {
    List<String> names = new ArrayList<>();
    for (EventType t : parameters.excludedTypes()) {
      names.add(t.json());
    }
    return names;
  }

  /**
   * Rows of the Lambda partial tables ({@link Views#lambdaPartial}): {@code activity_per_minute}
   * rows also carry their exact user set, so batch and speed partials merge exactly. Refused for a
   * view with no merge rule.
   */
  public LogViews<E> withUserSets() {
    return new LogViews<>(format, parameters, specs, true, countFrom).checked();
  }

  private LogViews<E> checked() {
    if (lambdaPartials) {
      for (ViewSpec<E> spec : specs) {
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
  public LogViews<E> withCountFrom(CountFrom cutoff) {
    return new LogViews<>(
        format, parameters, specs, lambdaPartials, Objects.requireNonNull(cutoff, "cutoff"));
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
    SplitLateEvents<E> late =
        SplitLateEvents.withAllowedLateness(format, parameters.allowedLateness());
    ParseEvents<E> parse = Events.parse(format);
    DeduplicateEvents<E> dedup = Events.deduplicate(format).withHorizon(parameters.dedupHorizon());
    PCollectionTuple parsed;
    PCollectionTuple split;
    if (countFrom == null) {
      // One keyed step de-duplicates and compares with the watermark: one shuffle fewer.
      parsed = records.apply("ParseEvents", parse);
      split =
          parsed
              .get(parse.events())
              .apply("DeduplicateAndSplitLate", late.afterDeduplication(parameters.dedupHorizon()));
    } else {
      PCollectionTuple cut =
          records.apply(
              "SplitAtCutoff",
              ParDo.of(new SplitAtCutoffFn<>(format, countFrom, dedup.primer()))
                  .withOutputTags(COUNTED, TupleTagList.of(dedup.primer())));
      parsed = cut.get(COUNTED).setCoder(SourceRecord.Coder.of()).apply("ParseEvents", parse);
      split =
          PCollectionTuple.of(dedup.events(), parsed.get(parse.events()))
              .and(dedup.primer(), cut.get(dedup.primer()).setCoder(format.coder()))
              .apply("DeduplicateEvents", dedup.primed(countFrom.primerNewest()))
              .apply("SplitLateEvents", late);
    }
    PCollection<E> accepted =
        split
            .get(SplitLateEvents.<E>onTime())
            .apply(
                "AcceptForViews",
                ParDo.of(new AcceptFn<>(format.accepting(excludedTypeNames(parameters)))))
            .setCoder(format.coder());

    PCollectionTuple out =
        PCollectionTuple.of(DEAD_LETTERS, parsed.get(ParseEvents.DEAD_LETTERS))
            .and(late(), split.get(late()));
    if (accepted.isBounded() == PCollection.IsBounded.BOUNDED) {
      // Bounded with a cutoff (primer copies): all views from one pass (BoundedViews).
      BoundedViews<E> bounded = boundedViews();
      PCollectionTuple rows = accepted.apply("Views", bounded);
      for (ViewDefinition view : views) {
        out = out.and(rowsOf(view), rows.get(rowsOf(view)));
      }
      return out;
    }
    for (ViewSpec<E> spec : specs) {
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
    BoundedViews<E> bounded = boundedViews();
    List<TupleTag<KV<KV<String, Long>, CombineSessions.Partial<Object>>>> partialTags =
        bounded.partialTags();
    TupleTagList others =
        TupleTagList.of(new ArrayList<>(partialTags.subList(1, partialTags.size())));
    PCollectionTuple folded =
        records
            .apply("ParseEvents", BoundedDedup.parseIntoBuckets(format))
            .apply("GroupBuckets", GroupByKey.create())
            .apply(
                "KeepOneCopyAndFold",
                ParDo.of(
                        new KeepFoldFn<>(
                            format,
                            format.accepting(excludedTypeNames(parameters)),
                            bounded.folds(),
                            partialTags))
                    .withOutputTags(partialTags.get(0), others.and(DEAD_LETTERS)));
    PCollection<DeadLetter> deadLetters = folded.get(DEAD_LETTERS).setCoder(DeadLetter.Coder.of());
    PCollectionTuple out =
        PCollectionTuple.of(DEAD_LETTERS, deadLetters)
            .and(late(), records.getPipeline().apply("NoLateEvents", Create.empty(format.coder())));
    PCollectionTuple rows = bounded.rowsFrom(folded);
    for (ViewDefinition view : views) {
      out = out.and(rowsOf(view), rows.get(rowsOf(view)));
    }
    return out;
  }

  /** The selected views for bounded input, folded in one pass. */
  private BoundedViews<E> boundedViews() {
    List<TupleTag<Row>> tags = new ArrayList<>();
    List<String> names = new ArrayList<>();
    List<ViewTransform<E, ?>> transforms = new ArrayList<>();
    for (ViewSpec<E> spec : specs) {
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
  static final class KeepFoldFn<E>
      extends DoFn<
          KV<Integer, Iterable<BoundedDedup.Bucketed<E>>>,
          KV<KV<String, Long>, CombineSessions.Partial<Object>>> {
    private final EventFormat<E> format;
    private final @Nullable SerializableFunction<E, Boolean> accepting;
    private final BoundedViews.Folds<E> folds;
    private final List<TupleTag<KV<KV<String, Long>, CombineSessions.Partial<Object>>>> tags;
    private final Counter accepted = Metrics.counter(CounterNames.NAMESPACE, CounterNames.ACCEPTED);

    KeepFoldFn(
        EventFormat<E> format,
        @Nullable SerializableFunction<E, Boolean> accepting,
        BoundedViews.Folds<E> folds,
        List<TupleTag<KV<KV<String, Long>, CombineSessions.Partial<Object>>>> tags) {
      this.format = format;
      this.accepting = accepting;
      this.folds = folds;
      this.tags = new ArrayList<>(tags);
    }

    @StartBundle
    public void startBundle() {
      folds.start();
    }

    @ProcessElement
    public void process(
        @Element KV<Integer, Iterable<BoundedDedup.Bucketed<E>>> bucket, MultiOutputReceiver out) {
      BoundedViews.PartialOutput partials =
          (view, p, ts) -> out.get(tags.get(view)).outputWithTimestamp(p, ts);
      long[] kept = {0};
      BoundedDedup.keepOneCopy(
          format,
          bucket.getValue(),
          new BoundedDedup.Kept<E>() {
            @Override
            public void event(E e) {
              kept[0]++;
              if (accepting == null || accepting.apply(e)) {
                folds.add(e, new Instant(format.eventTimeMillis(e)), partials);
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

  private ViewTransform<E, ?> transformFor(ViewSpec<E> spec) {
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
  static final class SplitAtCutoffFn<E> extends DoFn<SourceRecord, SourceRecord> {
    private final EventFormat<E> format;
    private final CountFrom cutoff;
    private final TupleTag<E> primer;
    private final Counter primed = Metrics.counter(CounterNames.NAMESPACE, CounterNames.PRIMED);

    SplitAtCutoffFn(EventFormat<E> format, CountFrom cutoff, TupleTag<E> primer) {
      this.format = format;
      this.cutoff = cutoff;
      this.primer = primer;
    }

    @ProcessElement
    public void process(@Element SourceRecord r, MultiOutputReceiver out) {
      if (cutoff.counts(r)) {
        out.get(COUNTED).output(r);
        return;
      }
      primed.inc();
      Parsed<E> parsed = ParseEvents.parseOnce(format, r.value());
      if (parsed.isValid()) {
        E e = parsed.event();
        out.get(primer).outputWithTimestamp(e, new Instant(format.eventTimeMillis(e)));
      }
    }

    @Override
    @SuppressWarnings("deprecation")
    public org.joda.time.Duration getAllowedTimestampSkew() {
      return Timestamps.ANY_SKEW;
    }
  }

  /** Counts events that reach the views; drops the excluded types (a logic parameter). */
  static final class AcceptFn<E> extends DoFn<E, E> {
    private final @Nullable SerializableFunction<E, Boolean> accepting;
    private final Counter accepted = Metrics.counter(CounterNames.NAMESPACE, CounterNames.ACCEPTED);
    private transient long n;

    AcceptFn(@Nullable SerializableFunction<E, Boolean> accepting) {
      this.accepting = accepting;
    }

    @ProcessElement
    public void process(@Element E e, OutputReceiver<E> out) {
      n++;
      if (accepting == null || accepting.apply(e)) {
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
