package dev.kappabeam.pipelines.sinks;

import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.pipelines.options.StoreConfigs;
import dev.kappabeam.transforms.views.ViewDefinition;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.POutput;
import org.apache.beam.sdk.values.Row;

/** Chooses the view sink for {@code --servingStore}: built-in JDBC, or a registered provider. */
public final class ServingSinks {
  /** The built-in store: {@link ServingStoreSink} over {@code --jdbcUrl}. */
  public static final String JDBC = "jdbc";

  private ServingSinks() {}

  public static PTransform<PCollection<Row>, ? extends POutput> sink(
      KappaBeamOptions options, ViewDefinition view) {
    String name = options.getServingStore();
    if (JDBC.equals(name)) {
      String url = options.getJdbcUrl();
      if (url == null || url.isBlank()) {
        throw new IllegalArgumentException(
            "--servingStore=jdbc needs --jdbcUrl (e.g. jdbc:postgresql://host/db)");
      }
      return new ServingStoreSink(StoreConfigs.of(options), view, options.getViewVersion());
    }
    List<String> known = new ArrayList<>(List.of(JDBC));
    for (ServingSinkProvider p :
        ServiceLoader.load(ServingSinkProvider.class, ServingSinks.class.getClassLoader())) {
      if (p.name().equals(name)) {
        return p.sink(options, view);
      }
      known.add(p.name());
    }
    throw new IllegalArgumentException(
        "unknown --servingStore '"
            + name
            + "'; available here: "
            + String.join(", ", known)
            + " (other stores need their module on the classpath, e.g. the Dataflow jar)");
  }
}
