package dev.kappabeam.cli.plugintest;

import dev.kappabeam.transforms.events.Event;
import dev.kappabeam.transforms.events.EventFormat;
import dev.kappabeam.transforms.events.ReferenceFormat;
import dev.kappabeam.transforms.views.ItemStats;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.ViewProvider;
import dev.kappabeam.transforms.views.ViewSpec;
import dev.kappabeam.transforms.views.ViewTransform;
import java.util.List;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.transforms.windowing.IntervalWindow;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Duration;

/**
 * A team's plug-in as {@code PluginIT} packs it into a jar of its own: one view, purchases and
 * revenue per user and hour, written against kappa-beam's public view API only. Not registered as a
 * service on the test class path (the jar's own META-INF/services does that), so other tests see
 * only the reference views.
 */
public final class OrdersViews implements ViewProvider {
  public static final ViewDefinition PURCHASES_PER_USER_HOURLY =
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

  @Override
  public List<ViewSpec<Event>> views() {
    return List.of(new PurchasesPerUserHourly());
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
          .aggregating(new ItemStats.Fn(), ItemStats.StatsCoder.of(), OrdersViews::row);
    }
  }

  static Row row(String user, ItemStats s, BoundedWindow w) {
    return Row.withSchema(PURCHASES_PER_USER_HOURLY.schema())
        .addValues(((IntervalWindow) w).start(), user, s.purchases(), s.revenueCents())
        .build();
  }
}
