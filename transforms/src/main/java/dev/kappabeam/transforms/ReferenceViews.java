package dev.kappabeam.transforms;

import dev.kappabeam.transforms.events.DeadLetter;
import dev.kappabeam.transforms.events.Event;
import dev.kappabeam.transforms.time.SplitLateEvents;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.Views;
import java.util.Objects;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;

/**
 * The reference workload's composite: {@link LogViews} of the reference format's events ({@link
 * dev.kappabeam.transforms.events.ReferenceFormat}) and the three reference views ({@link
 * Views#specs()}), nothing more special than that.
 *
 * <pre>{@code
 * PCollectionTuple out = records.apply("ReferenceViews",
 *     ReferenceViews.of(ViewParameters.defaults()));
 * out.get(ReferenceViews.rowsOf(Views.USER_SESSIONS)).apply(sink);
 * }</pre>
 */
public final class ReferenceViews {
  public static final TupleTag<DeadLetter> DEAD_LETTERS = LogViews.DEAD_LETTERS;
  public static final TupleTag<Event> LATE = SplitLateEvents.LATE;

  private ReferenceViews() {}

  /** All reference views with the given parameters. */
  @SuppressWarnings("unchecked")
  public static LogViews<Event> of(ViewParameters parameters) {
    return (LogViews<Event>)
        LogViews.of(Views.specs(), Objects.requireNonNull(parameters, "parameters"));
  }

  /** The output tag of a view's rows. */
  public static TupleTag<Row> rowsOf(ViewDefinition view) {
    return LogViews.rowsOf(view);
  }
}
