package dev.kappabeam.runners.testkit.plugin;

import dev.kappabeam.transforms.events.JsonFormat;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.ViewProvider;
import dev.kappabeam.transforms.views.ViewSpec;
import dev.kappabeam.transforms.views.ViewTransform;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import org.apache.beam.sdk.coders.CustomCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.windowing.IntervalWindow;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Duration;

/**
 * A team's plug-in as the runner modules' shaded-jar tests pack it into a jar of their own ({@link
 * dev.kappabeam.runners.testkit.PluginFixture}): parcel events in the team's own JSON shape ({@link
 * #PARCELS}) and one view of them, delivered parcels, their weight and the heaviest one per depot
 * per 10 minutes, with its own aggregation and coder. Deliberately not registered as a service in
 * this module: only the packed jar's {@code META-INF/services} names it.
 */
public final class ParcelViews implements ViewProvider {
  /** {"parcel_id", "depot": {"code"}, "status", "weight_grams", "ts"}. */
  public static final JsonFormat PARCELS =
      JsonFormat.named("parcels-json")
          .string("parcel_id")
          .string("depot", "depot.code")
          .string("status")
          .int64("weight_grams")
          .eventTime("ts")
          .idFrom("parcel_id", "status")
          .build();

  public static final ViewDefinition DELIVERED_PER_DEPOT =
      ViewDefinition.keyed(
          "delivered_parcels_per_depot_10m",
          Schema.builder()
              .addDateTimeField("window_start")
              .addStringField("depot")
              .addInt64Field("parcels")
              .addInt64Field("weight_grams")
              .addInt64Field("heaviest_grams")
              .build(),
          List.of("window_start", "depot"),
          "parcels");

  /** The size of the view's windows. */
  public static final Duration WINDOW = Duration.standardMinutes(10);

  @Override
  public List<ViewSpec<Row>> views() {
    return List.of(new DeliveredPerDepot());
  }

  static final class DeliveredPerDepot implements ViewSpec<Row> {
    @Override
    public ViewDefinition definition() {
      return DELIVERED_PER_DEPOT;
    }

    @Override
    public JsonFormat format() {
      return PARCELS;
    }

    @Override
    public ViewTransform<Row, ?> transform(ViewParameters parameters) {
      return ViewTransform.of(DELIVERED_PER_DEPOT, format(), parameters)
          .selecting(p -> "delivered".equals(p.getString("status")))
          .keyedBy(p -> p.getString("depot"))
          .fixedWindows(WINDOW)
          .aggregating(
              new Stats(),
              StatsCoder.INSTANCE,
              (depot, s, w) ->
                  Row.withSchema(DELIVERED_PER_DEPOT.schema())
                      .addValues(((IntervalWindow) w).start(), depot, s[0], s[1], s[2])
                      .build());
    }
  }

  /** Parcels, total weight and the heaviest weight: {count, sum, max}. */
  static final class Stats extends Combine.CombineFn<Row, long[], long[]> {
    @Override
    public long[] createAccumulator() {
      return new long[3];
    }

    @Override
    public long[] addInput(long[] acc, Row parcel) {
      long grams = parcel.getInt64("weight_grams");
      return new long[] {acc[0] + 1, acc[1] + grams, Math.max(acc[2], grams)};
    }

    @Override
    public long[] mergeAccumulators(Iterable<long[]> accumulators) {
      long[] out = createAccumulator();
      for (long[] a : accumulators) {
        out = new long[] {out[0] + a[0], out[1] + a[1], Math.max(out[2], a[2])};
      }
      return out;
    }

    @Override
    public long[] extractOutput(long[] acc) {
      return acc;
    }

    @Override
    public org.apache.beam.sdk.coders.Coder<long[]> getAccumulatorCoder(
        org.apache.beam.sdk.coders.CoderRegistry registry,
        org.apache.beam.sdk.coders.Coder<Row> inputCoder) {
      return StatsCoder.INSTANCE;
    }
  }

  /** {count, sum, max} as three variable-length longs. */
  static final class StatsCoder extends CustomCoder<long[]> {
    static final StatsCoder INSTANCE = new StatsCoder();

    @Override
    public void encode(long[] value, OutputStream out) throws IOException {
      for (int i = 0; i < 3; i++) {
        VarLongCoder.of().encode(value[i], out);
      }
    }

    @Override
    public long[] decode(InputStream in) throws IOException {
      long[] value = new long[3];
      for (int i = 0; i < 3; i++) {
        value[i] = VarLongCoder.of().decode(in);
      }
      return value;
    }

    @Override
    public void verifyDeterministic() {}
  }
}
