package com.example.orders;

import com.example.orders.Orders.OrderEvent;
import dev.kappabeam.devstack.LocalStack;
import dev.kappabeam.kappa.JobOptions;
import dev.kappabeam.pipelines.kafka.KafkaClientConfig;
import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.pipelines.runner.RunnerSupports;
import dev.kappabeam.serving.StoreConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.joda.time.Duration;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * kappa-beam's local stack for this project's tests: a real Kafka broker (KRaft, a child JVM) and
 * the H2 serving store, the order topic with its dead-letter and late topics, the shop's producer
 * (Avro {@code Order} values keyed by customer), and the options of the jobs kappa-beam's Kappa and
 * Lambda steps start (DirectRunner). One stack serves every test class of the run ({@link Shared}:
 * {@code @ExtendWith(OrdersStack.Shared.class)} and an {@code OrdersStack} parameter); each test
 * has a topic of its own.
 */
final class OrdersStack implements AutoCloseable {
  /** Gives tests the run's stack, started on first use and closed when the run ends. */
  static final class Shared implements ParameterResolver {
    @Override
    public boolean supportsParameter(ParameterContext p, ExtensionContext c) {
      return p.getParameter().getType() == OrdersStack.class;
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext c) {
      return c.getRoot()
          .getStore(ExtensionContext.Namespace.GLOBAL)
          .getOrComputeIfAbsent(OrdersStack.class, k -> start("orders-views"), OrdersStack.class);
    }
  }

  /** The funnel's session gap in every run and oracle here. */
  static final Duration SESSION_GAP = Duration.standardMinutes(20);

  static final int PARTITIONS = 3;

  private final LocalStack stack;

  private OrdersStack(LocalStack stack) {
    this.stack = stack;
  }

  /** Starts a stack in {@code target/it-stacks/<name>-<millis>}. */
  static OrdersStack start(String name) {
    Path dir = Path.of("target", "it-stacks", name + "-" + System.currentTimeMillis());
    return new OrdersStack(LocalStack.start(LocalStack.Config.of(dir).withFreePorts()));
  }

  /**
   * A new order topic ({@value #PARTITIONS} partitions) with its {@code .dlq} and {@code .late}.
   */
  String newTopic(String prefix) {
    String topic = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    for (String t : List.of(topic, topic + ".dlq", topic + ".late")) {
      stack.ensureTopic(t, PARTITIONS);
    }
    return topic;
  }

  /**
   * Produces the events as the order service does (the Avro {@code Order}, key = customer id, one
   * partition per customer) and {@code broken} values that are no {@code Order} (key-less, on
   * partition 0), and waits until the broker has them all.
   */
  void produce(String topic, List<OrderEvent> events, byte[]... broken) throws Exception {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (OrderEvent e : events) {
        byte[] key = e.customer().getBytes(StandardCharsets.UTF_8);
        int partition = Math.floorMod(e.customer().hashCode(), PARTITIONS);
        sent.add(producer.send(new ProducerRecord<>(topic, partition, key, e.bytes())));
      }
      for (byte[] value : broken) {
        sent.add(producer.send(new ProducerRecord<>(topic, 0, null, value)));
      }
      producer.flush();
      for (Future<RecordMetadata> f : sent) {
        f.get(60, TimeUnit.SECONDS);
      }
    }
  }

  /**
   * The options of every job a Kappa or Lambda step starts, as an application builds them: the
   * runner (DirectRunner) with kappa-beam's defaults for it, the logic ({@code --sessionGap}), and
   * the stack's broker and serving store; the step sets what the job reads and writes.
   */
  JobOptions jobs() {
    return (mode, drain) -> {
      List<String> args =
          List.of(
              "--runner=DirectRunner",
              "--blockOnRun=false",
              "--mode=" + mode,
              "--drainWhenCaughtUp=" + drain,
              "--sessionGap=" + SESSION_GAP);
      KappaBeamOptions o =
          PipelineOptionsFactory.fromArgs(
                  RunnerSupports.withDefaults(args, Optional.of(stack.dataDir()))
                      .toArray(String[]::new))
              .as(KappaBeamOptions.class);
      o.setBootstrapServers(stack.bootstrapServers());
      o.setJdbcUrl(stack.jdbcUrl());
      o.setJdbcUser(stack.jdbcUser());
      return o;
    };
  }

  /** The serving store. */
  StoreConfig store() {
    return StoreConfig.of(stack.jdbcUrl(), stack.jdbcUser(), stack.jdbcPassword());
  }

  /** The broker, for the admin steps (a drop deletes the version's consumer group). */
  KafkaClientConfig kafka() {
    return KafkaClientConfig.of(stack.bootstrapServers());
  }

  /** The counters a run reported, by name; absent ones are 0. */
  static long counter(Map<String, Long> counters, String name) {
    return counters.getOrDefault(name, 0L);
  }

  @Override
  public void close() {
    stack.close();
  }
}
