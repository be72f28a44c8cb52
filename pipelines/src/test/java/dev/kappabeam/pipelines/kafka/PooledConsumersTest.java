package dev.kappabeam.pipelines.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * The pool behind {@link KafkaClientConfig#pooledConsumerFactory()}: a closed consumer comes back,
 * unassigned, to the next borrower with the same configuration, never to two at once. (Kafka's own
 * {@link MockConsumer} stands in for the consumer here: what is tested is the pool's bookkeeping,
 * not the broker; the pooled read itself runs against the real broker in every drained replay of
 * the end-to-end and parity tests.)
 */
class PooledConsumersTest {
  private final List<MockConsumer<byte[], byte[]>> created = new ArrayList<>();

  private Consumer<byte[], byte[]> borrow(Map<String, Object> config) {
    return PooledConsumers.borrow(
        config,
        () -> {
          MockConsumer<byte[], byte[]> c = new MockConsumer<>(OffsetResetStrategy.EARLIEST);
          created.add(c);
          return c;
        });
  }

  @Test
  void aClosedConsumerIsReusedUnassignedByTheNextBorrowerOfTheSameConfiguration() {
    Map<String, Object> config = Map.of("client.id", "pool-test-reuse");
    Consumer<byte[], byte[]> first = borrow(config);
    TopicPartition p = new TopicPartition("events", 0);
    first.assign(List.of(p));
    assertEquals(Set.of(p), first.assignment());
    first.close();
    assertThrows(IllegalStateException.class, first::assignment, "closed: no use after close");

    Consumer<byte[], byte[]> second = borrow(config);
    assertEquals(1, created.size(), "the pooled consumer was handed out again");
    assertTrue(second.assignment().isEmpty(), "returned unassigned");
    assertFalse(created.get(0).closed());

    Consumer<byte[], byte[]> concurrent = borrow(config);
    assertEquals(2, created.size(), "a consumer in use is never handed out twice");
    Consumer<byte[], byte[]> other = borrow(Map.of("client.id", "pool-test-other"));
    assertEquals(3, created.size(), "another configuration gets its own consumer");
    second.close();
    concurrent.close();
    other.close();
  }

  @Test
  void consumersBeyondTheIdleLimitAreClosed() {
    Map<String, Object> config = Map.of("client.id", "pool-test-limit");
    List<Consumer<byte[], byte[]>> borrowed = new ArrayList<>();
    for (int i = 0; i < PooledConsumers.MAX_IDLE + 2; i++) {
      borrowed.add(borrow(config));
    }
    borrowed.forEach(Consumer::close);
    long closed = created.stream().filter(MockConsumer::closed).count();
    assertEquals(2, closed, "only MAX_IDLE consumers are kept");
  }
}
