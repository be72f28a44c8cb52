package dev.kappabeam.serve;

import dev.kappabeam.serving.StoreConfig;
import java.util.Map;
import java.util.Objects;

/**
 * Where {@code kb serve} reads from: the serving database (views, registry, counters) and,
 * optionally, the Kafka cluster the versions' consumer groups read (for lag).
 *
 * @param bootstrapServers Kafka bootstrap servers, or null to report no lag
 * @param kafkaSettings further Kafka client settings (security, TLS, SASL) for the lag reader
 */
public record Backend(StoreConfig store, String bootstrapServers, Map<String, ?> kafkaSettings) {
  public Backend {
    Objects.requireNonNull(store, "store");
    kafkaSettings = kafkaSettings == null ? Map.of() : Map.copyOf(kafkaSettings);
  }

  /** No Kafka client settings beyond the bootstrap servers. */
  public Backend(StoreConfig store, String bootstrapServers) {
    this(store, bootstrapServers, Map.of());
  }

  @Override
  public String toString() {
    // The settings can hold passwords (sasl.jaas.config): name the keys only.
    return "Backend[store="
        + store
        + ", bootstrapServers="
        + bootstrapServers
        + ", kafkaSettings="
        + kafkaSettings.keySet()
        + "]";
  }
}
