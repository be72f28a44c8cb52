package dev.kappabeam.cli;

import dev.kappabeam.devstack.LocalStack;
import dev.kappabeam.serving.StoreConfig;
import dev.kappabeam.serving.ViewStore;
import java.nio.file.Path;

/**
 * The real local stack one integration-test class runs against (Kafka broker + H2 serving store on
 * free ports), with the clients the tests read it through. Its data lives under {@code
 * target/it-stacks/<test>-<millis>} rather than a temporary folder, so the broker log outlives a
 * failed run. {@link #close()} closes the clients, then stops the stack.
 *
 * <pre>{@code
 * @BeforeAll static void start() { it = ItStack.start("LambdaIT"); }
 * @AfterAll static void stop() { it.close(); }
 * }</pre>
 */
final class ItStack implements AutoCloseable {
  final LocalStack stack;
  final KafkaTestClient kafka;
  final StoreConfig config;
  final ViewStore store;

  private ItStack(LocalStack stack) {
    this.stack = stack;
    this.kafka = new KafkaTestClient(stack.bootstrapServers());
    this.config = StoreConfig.of(stack.jdbcUrl(), stack.jdbcUser(), stack.jdbcPassword());
    this.store = new ViewStore(config);
  }

  static ItStack start(String testName) {
    Path dataDir = Path.of("target", "it-stacks", testName + "-" + System.currentTimeMillis());
    return new ItStack(LocalStack.start(LocalStack.Config.of(dataDir).withFreePorts()));
  }

  @Override
  public void close() {
    try {
      store.close();
      kafka.close();
    } finally {
      stack.close();
    }
  }
}
