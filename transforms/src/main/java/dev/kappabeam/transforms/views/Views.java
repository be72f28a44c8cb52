package dev.kappabeam.transforms.views;

import dev.kappabeam.transforms.events.Event;
import dev.kappabeam.transforms.events.EventFormat;
import dev.kappabeam.transforms.events.EventJson;
import dev.kappabeam.transforms.events.ReferenceFormat;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.transforms.windowing.IntervalWindow;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Duration;
import org.joda.time.Instant;

/**
 * The three reference views: their definitions (schema, key, apply rule) and static factories for
 * the composites that compute them from de-duplicated, on-time events.
 *
 * <ul>
 *   <li>{@code activity_per_minute}: key (window_start, type); events, distinct_users (exact),
 *       revenue_cents (purchases only, 0 for other types). 1-minute fixed windows.
 *   <li>{@code item_revenue_hourly}: key (window_start, item); purchases, revenue_cents. Purchase
 *       events only, 1-hour fixed windows.
 *   <li>{@code user_sessions}: key (user_id, session_start); session_end (last event's time),
 *       events, purchases. Session windows with a 30-minute gap (a parameter).
 * </ul>
 */
public final class Views {
  public static final Duration MINUTE = Duration.standardMinutes(1);
  public static final Duration HOUR = Duration.standardHours(1);

  public static final ViewDefinition ACTIVITY_PER_MINUTE =
      new ViewDefinition(
          "activity_per_minute",
          Schema.builder()
              .addDateTimeField("window_start")
              .addStringField("type")
              .addInt64Field("events")
              .addInt64Field("distinct_users")
              .addInt64Field("revenue_cents")
              .build(),
          List.of("window_start", "type"),
          ViewDefinition.Kind.KEYED,
          "events");

  public static final ViewDefinition ITEM_REVENUE_HOURLY =
      new ViewDefinition(
              "item_revenue_hourly",
              Schema.builder()
                  .addDateTimeField("window_start")
                  .addStringField("item")
                  .addInt64Field("purchases")
                  .addInt64Field("revenue_cents")
                  .build(),
              List.of("window_start", "item"),
              ViewDefinition.Kind.KEYED,
              "purchases")
          .mergedBy(
              java.util.Map.of(
                  "purchases",
                  ViewDefinition.Merge.SUM,
                  "revenue_cents",
                  ViewDefinition.Merge.SUM));

  public static final ViewDefinition USER_SESSIONS =
      new ViewDefinition(
              "user_sessions",
              Schema.builder()
                  .addStringField("user_id")
                  .addDateTimeField("session_start")
                  .addDateTimeField("session_end")
                  .addInt64Field("events")
                  .addInt64Field("purchases")
                  .build(),
              List.of("user_id", "session_start"),
              ViewDefinition.Kind.SESSION,
              "events")
          .mergedBy(
              java.util.Map.of(
                  "events", ViewDefinition.Merge.SUM, "purchases", ViewDefinition.Merge.SUM));

  private static final List<ViewDefinition> ALL =
      List.of(ACTIVITY_PER_MINUTE, ITEM_REVENUE_HOURLY, USER_SESSIONS);

  /**
   * Extra column of {@code activity_per_minute} in Lambda batch and speed tables: the key's exact
   * user set as a JSON array of user ids, sorted, so that a batch row and a speed row of the same
   * key merge to the exact distinct user count (the union's size).
   */
  public static final String USERS_COLUMN = "users";

  /** {@code activity_per_minute} with {@link #USERS_COLUMN}: the Lambda partial rows. */
  public static final ViewDefinition ACTIVITY_PER_MINUTE_PARTIAL =
      new ViewDefinition(
          ACTIVITY_PER_MINUTE.name(),
          Schema.builder()
              .addFields(ACTIVITY_PER_MINUTE.schema().getFields())
              .addStringField(USERS_COLUMN)
              .build(),
          ACTIVITY_PER_MINUTE.keyColumns(),
          ViewDefinition.Kind.KEYED,
          "events");

  private Views() {}

  /** All reference views, in a stable order. */
  public static List<ViewDefinition> all() {
    return ALL;
  }

  public static Optional<ViewDefinition> byName(String name) {
    return ALL.stream().filter(v -> v.name().equals(name)).findFirst();
  }

  /**
   * The rows a Lambda batch or speed table stores for a view: what a partial must keep so that a
   * batch partial and a speed partial merge exactly ({@code activity_per_minute} adds its user set;
   * the other views' rows already merge).
   */
  public static ViewDefinition lambdaPartial(ViewDefinition view) {
    return view.name().equals(ACTIVITY_PER_MINUTE.name()) ? ACTIVITY_PER_MINUTE_PARTIAL : view;
  }

  /**
   * The reference views as {@link ViewSpec}s, in the order of {@link #all()}: how {@link
   * ViewCatalog} and the pipelines build them, like any team's views.
   */
  public static List<ViewSpec<Event>> specs() {
    return SPECS;
  }

  private static final List<ViewSpec<Event>> SPECS =
      List.of(
          new ReferenceSpec(
              ACTIVITY_PER_MINUTE, Views::activityPerMinute, Views::activityPerMinuteWithUsers),
          new ReferenceSpec(
              ITEM_REVENUE_HOURLY, Views::itemRevenueHourly, Views::itemRevenueHourly),
          new ReferenceSpec(USER_SESSIONS, Views::userSessions, Views::userSessions));

  /**
   * The view as Lambda batch and speed runs write it, rows from which a batch row and a speed row
   * of the same key merge exactly ({@link #lambdaPartial(ViewDefinition)}): a view with merge rules
   * ({@link ViewDefinition#mergedBy}) writes its own rows; {@code activity_per_minute}, whose
   * distinct count no column rule merges, adds its exact user set. Empty for a view without merge
   * rules, which {@code kb batch} and {@code kb speed} refuse.
   */
  @SuppressWarnings("unchecked")
  public static <E> java.util.Optional<ViewTransform<E, ?>> lambdaPartial(
      ViewSpec<E> spec, ViewParameters parameters) {
    if (spec instanceof ReferenceSpec) {
      return java.util.Optional.of(
          (ViewTransform<E, ?>) ((ReferenceSpec) spec).partial.apply(parameters));
    }
    return spec.definition().mergeRules().isPresent()
        ? java.util.Optional.of(spec.transform(parameters))
        : java.util.Optional.empty();
  }

  /** A reference view: its rows, its composite, and its Lambda partial composite. */
  private static final class ReferenceSpec implements ViewSpec<Event> {
    private final ViewDefinition view;
    private final java.util.function.Function<ViewParameters, ViewTransform<Event, ?>> transform;
    private final java.util.function.Function<ViewParameters, ViewTransform<Event, ?>> partial;

    ReferenceSpec(
        ViewDefinition view,
        java.util.function.Function<ViewParameters, ViewTransform<Event, ?>> transform,
        java.util.function.Function<ViewParameters, ViewTransform<Event, ?>> partial) {
      this.view = view;
      this.transform = transform;
      this.partial = partial;
    }

    @Override
    public ViewDefinition definition() {
      return view;
    }

    @Override
    public EventFormat<Event> format() {
      return ReferenceFormat.of();
    }

    @Override
    public ViewTransform<Event, ?> transform(ViewParameters parameters) {
      return transform.apply(parameters);
    }
  }

  /** Comma-separated names, for error messages. */
  public static String names() {
    return ALL.stream().map(ViewDefinition::name).collect(Collectors.joining(", "));
  }

  /** {@code activity_per_minute} from on-time, de-duplicated events. */
  public static ViewTransform<Event, ActivityStats> activityPerMinute(ViewParameters p) {
    return new ViewTransform<>(
        ACTIVITY_PER_MINUTE,
        ReferenceFormat.of(),
        ViewTransform.Spec.fixed(MINUTE, p, "WindowPerMinute", "CountActivity"),
        e -> true,
        e -> e.type().json(),
        new ActivityStats.Fn(),
        ActivityStats.StatsCoder.of(),
        Views::activityRow);
  }

  /**
   * {@code activity_per_minute} rows with {@link #USERS_COLUMN}, for Lambda tables: the same
   * windowing, aggregate and step names as {@link #activityPerMinute}, only the row format differs.
   */
  public static ViewTransform<Event, ActivityStats> activityPerMinuteWithUsers(ViewParameters p) {
    return new ViewTransform<>(
        ACTIVITY_PER_MINUTE_PARTIAL,
        ReferenceFormat.of(),
        ViewTransform.Spec.fixed(MINUTE, p, "WindowPerMinute", "CountActivity"),
        e -> true,
        e -> e.type().json(),
        new ActivityStats.Fn(),
        ActivityStats.StatsCoder.of(),
        Views::activityPartialRow);
  }

  /** {@code item_revenue_hourly} from on-time, de-duplicated events (purchases only). */
  public static ViewTransform<Event, ItemStats> itemRevenueHourly(ViewParameters p) {
    return new ViewTransform<>(
        ITEM_REVENUE_HOURLY,
        ReferenceFormat.of(),
        ViewTransform.Spec.fixed(HOUR, p, "WindowPerHour", "SumItemRevenue"),
        Event::isPurchase,
        Event::item,
        new ItemStats.Fn(),
        ItemStats.StatsCoder.of(),
        Views::itemRow);
  }

  /** {@code user_sessions} from on-time, de-duplicated events. */
  public static ViewTransform<Event, SessionStats> userSessions(ViewParameters p) {
    return new ViewTransform<>(
        USER_SESSIONS,
        ReferenceFormat.of(),
        ViewTransform.Spec.sessions(p, "WindowSessions", "SummarizeSessions"),
        e -> true,
        Event::userId,
        new SessionStats.Fn(),
        SessionStats.StatsCoder.of(),
        Views::sessionRow);
  }

  static Row activityRow(String type, ActivityStats s, BoundedWindow w) {
    return Row.withSchema(ACTIVITY_PER_MINUTE.schema())
        .addValues(start(w), type, s.events(), s.distinctUsers(), s.revenueCents())
        .build();
  }

  static Row activityPartialRow(String type, ActivityStats s, BoundedWindow w) {
    StringBuilder users = new StringBuilder("[");
    for (String u : new java.util.TreeSet<>(s.users())) {
      users.append(users.length() > 1 ? "," : "").append(EventJson.quote(u));
    }
    return Row.withSchema(ACTIVITY_PER_MINUTE_PARTIAL.schema())
        .addValues(
            start(w),
            type,
            s.events(),
            s.distinctUsers(),
            s.revenueCents(),
            users.append(']').toString())
        .build();
  }

  static Row itemRow(String item, ItemStats s, BoundedWindow w) {
    return Row.withSchema(ITEM_REVENUE_HOURLY.schema())
        .addValues(start(w), item, s.purchases(), s.revenueCents())
        .build();
  }

  static Row sessionRow(String user, SessionStats s, BoundedWindow w) {
    return Row.withSchema(USER_SESSIONS.schema())
        .addValues(
            user,
            new Instant(s.firstMillis()),
            new Instant(s.lastMillis()),
            s.events(),
            s.purchases())
        .build();
  }

  private static Instant start(BoundedWindow w) {
    return ((IntervalWindow) w).start();
  }
}
