package dev.kappabeam.transforms.views;

import dev.kappabeam.transforms.events.Event;
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
          "purchases");

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
          "events");

  private static final List<ViewDefinition> ALL =
      List.of(ACTIVITY_PER_MINUTE, ITEM_REVENUE_HOURLY, USER_SESSIONS);

  private Views() {}

  /** All reference views, in a stable order. */
  public static List<ViewDefinition> all() {
    return ALL;
  }

  public static Optional<ViewDefinition> byName(String name) {
    return ALL.stream().filter(v -> v.name().equals(name)).findFirst();
  }

  /** Comma-separated names, for error messages. */
  public static String names() {
    return ALL.stream().map(ViewDefinition::name).collect(Collectors.joining(", "));
  }

  /** {@code activity_per_minute} from on-time, de-duplicated events. */
  public static ViewTransform<ActivityStats> activityPerMinute(ViewParameters p) {
    return new ViewTransform<>(
        ACTIVITY_PER_MINUTE,
        ViewTransform.Spec.fixed(MINUTE, p, "WindowPerMinute", "CountActivity"),
        e -> true,
        e -> e.type().json(),
        new ActivityStats.Fn(),
        ActivityStats.StatsCoder.of(),
        Views::activityRow);
  }

  /** {@code item_revenue_hourly} from on-time, de-duplicated events (purchases only). */
  public static ViewTransform<ItemStats> itemRevenueHourly(ViewParameters p) {
    return new ViewTransform<>(
        ITEM_REVENUE_HOURLY,
        ViewTransform.Spec.fixed(HOUR, p, "WindowPerHour", "SumItemRevenue"),
        Event::isPurchase,
        Event::item,
        new ItemStats.Fn(),
        ItemStats.StatsCoder.of(),
        Views::itemRow);
  }

  /** {@code user_sessions} from on-time, de-duplicated events. */
  public static ViewTransform<SessionStats> userSessions(ViewParameters p) {
    return new ViewTransform<>(
        USER_SESSIONS,
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
