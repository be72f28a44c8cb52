package dev.kappabeam.transforms.views;

import dev.kappabeam.transforms.events.EventFormat;

/**
 * One view of the event log as kappa-beam's machinery takes it: the rows it writes ({@link
 * #definition()}: name, columns, key, how rows replace each other) and how it is computed from
 * de-duplicated, on-time events with a run's parameters ({@link #transform}). The three reference
 * views are specs like any other ({@link Views#specs()}); a team's jar adds its own through a
 * {@link ViewProvider}, and then {@code kb run}, {@code reprocess}, {@code views} and the serving
 * store take them by name as they take the reference views.
 *
 * <pre>{@code
 * final class PurchasesPerUserHourly implements ViewSpec<Event> {
 *   static final ViewDefinition VIEW = ViewDefinition.keyed("purchases_per_user_hourly",
 *       Schema.builder().addDateTimeField("window_start").addStringField("user_id")
 *           .addInt64Field("purchases").addInt64Field("revenue_cents").build(),
 *       List.of("window_start", "user_id"), "purchases");
 *
 *   public ViewDefinition definition() { return VIEW; }
 *
 *   public EventFormat<Event> format() { return ReferenceFormat.of(); }
 *
 *   public ViewTransform<Event, ?> transform(ViewParameters p) {
 *     return ViewTransform.of(VIEW, format(), p).selecting(Event::isPurchase)
 *         .keyedBy(Event::userId)
 *         .fixedWindows(Duration.standardHours(1))
 *         .aggregating(new ItemStats.Fn(), ItemStats.StatsCoder.of(), PurchasesPerUserHourly::row);
 *   }
 * }
 * }</pre>
 *
 * <p>Lambda: a view whose definition says how its columns merge ({@link ViewDefinition#mergedBy})
 * is built by {@code kb batch} and {@code kb speed} and read merged; one without merge rules runs
 * in Kappa only (runs and reprocessing), and Lambda refuses it. Windows: fixed, sliding, the global
 * window (keyed views) or sessions (session views), see {@link ViewTransform#of}.
 */
public interface ViewSpec<E> {
  /** The rows of the view. */
  ViewDefinition definition();

  /**
   * The format of the events the view reads. A run reads its topic with one format: the views of
   * one run must all name the same one.
   */
  EventFormat<E> format();

  /** The view's composite for a run's parameters (lateness, early firings, session gap). */
  ViewTransform<E, ?> transform(ViewParameters parameters);
}
