package dev.kappabeam.transforms.views;

import dev.kappabeam.transforms.events.Event;
import dev.kappabeam.transforms.events.EventFormat;
import dev.kappabeam.transforms.events.ReferenceFormat;
import java.util.List;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.transforms.windowing.IntervalWindow;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Duration;

/**
 * A team's views as a plug-in would add them, through the public API only: purchases per user and
 * hour (fixed windows) and buying sessions (sessions of purchases only, keyed by user).
 */
public final class TestViewProvider implements ViewProvider {
  static final ViewDefinition PURCHASES_PER_USER_HOURLY =
      ViewDefinition.keyed(
          "purchases_per_user_hourly",
          Schema.builder()
              .addDateTimeField("window_start")
              .addStringField("user_id")
              .addInt64Field("purchases")
              .addInt64Field("revenue_cents")
              .build(),
          List.of("window_start", "user_id"),
          "purchases");

  static final ViewDefinition BUYING_SESSIONS =
      ViewDefinition.sessions(
          "buying_sessions",
          Schema.builder()
              .addStringField("user_id")
              .addDateTimeField("session_start")
              .addDateTimeField("session_end")
              .addInt64Field("purchases")
              .build(),
          "user_id",
          "session_start",
          "purchases");

  @Override
  public List<ViewSpec<Event>> views() {
    return List.of(new PurchasesPerUserHourly(), new BuyingSessions());
  }

  static final class PurchasesPerUserHourly implements ViewSpec<Event> {
    @Override
    public ViewDefinition definition() {
      return PURCHASES_PER_USER_HOURLY;
    }

    @Override
    public EventFormat<Event> format() {
      return ReferenceFormat.of();
    }

    @Override
    public ViewTransform<Event, ?> transform(ViewParameters parameters) {
      return ViewTransform.of(PURCHASES_PER_USER_HOURLY, format(), parameters)
          .selecting(Event::isPurchase)
          .keyedBy(Event::userId)
          .fixedWindows(Duration.standardHours(1))
          .aggregating(new ItemStats.Fn(), ItemStats.StatsCoder.of(), TestViewProvider::hourRow);
    }
  }

  static final class BuyingSessions implements ViewSpec<Event> {
    @Override
    public ViewDefinition definition() {
      return BUYING_SESSIONS;
    }

    @Override
    public EventFormat<Event> format() {
      return ReferenceFormat.of();
    }

    @Override
    public ViewTransform<Event, ?> transform(ViewParameters parameters) {
      return ViewTransform.of(BUYING_SESSIONS, format(), parameters)
          .selecting(Event::isPurchase)
          .keyedBy(Event::userId)
          .sessions()
          .aggregating(
              new SessionStats.Fn(), SessionStats.StatsCoder.of(), TestViewProvider::sessionRow);
    }
  }

  static Row hourRow(String user, ItemStats s, BoundedWindow w) {
    return Row.withSchema(PURCHASES_PER_USER_HOURLY.schema())
        .addValues(((IntervalWindow) w).start(), user, s.purchases(), s.revenueCents())
        .build();
  }

  static Row sessionRow(String user, SessionStats s, BoundedWindow w) {
    return Row.withSchema(BUYING_SESSIONS.schema())
        .addValues(
            user,
            new org.joda.time.Instant(s.firstMillis()),
            new org.joda.time.Instant(s.lastMillis()),
            s.purchases())
        .build();
  }
}
