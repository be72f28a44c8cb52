package dev.kappabeam.pipelines.sinks;

import dev.kappabeam.serving.StoreConfig;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.views.ViewDefinition;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/**
 * Writes one view's rows into its version table of the serving store ({@code <view>__<version>}),
 * with {@link ViewStore#apply}: idempotent and order-independent, so a replay, a restart or a
 * retried bundle never double counts, and a merged session removes the rows it replaced.
 *
 * <p>Rows are buffered per bundle and written in one transaction when the bundle finishes (or every
 * {@value #MAX_BATCH} rows); a bundle is only committed by the runner after that, so a failure
 * re-applies the same rows, which the apply rule makes harmless.
 *
 * <p>An outage of the store is ridden out for {@link StoreConfig#outageGrace()} ({@code
 * --outageGrace}): the write is retried with backoff, the bundle waits and nothing is lost; beyond
 * the grace the bundle fails with {@link dev.kappabeam.serving.StoreOutageException}, and with it
 * the job.
 */
public final class ServingStoreSink extends PTransform<PCollection<Row>, PCollection<Void>> {
  static final int MAX_BATCH = 2_000;

  private final StoreConfig store;
  private final ViewDefinition view;
  private final String version;

  public ServingStoreSink(StoreConfig store, ViewDefinition view, String version) {
    this.store = store;
    this.view = view;
    this.version = version;
  }

  @Override
  public PCollection<Void> expand(PCollection<Row> rows) {
    return rows.apply("UpsertRows", ParDo.of(new ApplyFn(store, view, version)));
  }

  static final class ApplyFn extends DoFn<Row, Void> {
    private final StoreConfig config;
    private final ViewDefinition view;
    private final String version;
    private transient ViewStore store;
    private transient List<Row> buffer;

    ApplyFn(StoreConfig config, ViewDefinition view, String version) {
      this.config = config;
      this.view = view;
      this.version = version;
    }

    @Setup
    public void setup() {
      store = new ViewStore(config);
      store.createTable(view, version);
    }

    @StartBundle
    public void startBundle() {
      buffer = new ArrayList<>();
    }

    @ProcessElement
    public void process(@Element Row row) {
      buffer.add(row);
      if (buffer.size() >= MAX_BATCH) {
        flush();
      }
    }

    @FinishBundle
    public void finishBundle() {
      flush();
    }

    @Teardown
    public void teardown() {
      if (store != null) {
        store.close();
      }
    }

    private void flush() {
      if (!buffer.isEmpty()) {
        store.apply(view, version, buffer);
        buffer = new ArrayList<>();
      }
    }
  }
}
