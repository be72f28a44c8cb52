package dev.kappabeam.serve;

import dev.kappabeam.serving.StoreConfig;
import java.util.Objects;

/**
 * Where {@code kb serve} reads from: the serving database (views, registry, counters) and,
 * optionally, the Kafka cluster the versions' consumer groups read (for lag).
 *
 * @param bootstrapServers Kafka bootstrap servers, or null to report no lag
 */
public record Backend(StoreConfig store, String bootstrapServers) {
  public Backend {
    Objects.requireNonNull(store, "store");
  }
}
