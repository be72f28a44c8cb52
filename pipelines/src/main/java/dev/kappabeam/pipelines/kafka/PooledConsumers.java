package dev.kappabeam.pipelines.kafka;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.Consumer;

/**
 * Consumers kept between the resumptions of a splittable Kafka read.
 *
 * <p>Beam 2.62's {@code ReadFromKafkaDoFn} creates a consumer each time a runner resumes a
 * partition's read and closes it when it pauses again; Flink's runner pauses a splittable read
 * after every 10,000 records, so a drained replay opened a consumer (connection, metadata, a cold
 * fetch) every 10,000 records of each partition. {@link #borrow} hands out a consumer whose {@code
 * close()} unassigns it and keeps it for the next borrower with the same configuration (at most
 * {@link #MAX_IDLE} per configuration; one idle longer than {@link #MAX_IDLE_TIME} is closed when
 * the pool is next used). A consumer is only ever used by one borrower at a time. Measured: a
 * drained replay of 4M events on Flink went from 40,483 to 61,454 events/s (benchmarks/README.md).
 * The pool is per class loader: on a session cluster, the idle consumers of a finished job (at most
 * {@link #MAX_IDLE} per partition configuration, no threads of their own) stay until its class
 * loader's pool is used again or the JVM ends.
 */
final class PooledConsumers {
  static final int MAX_IDLE = 4;
  static final Duration MAX_IDLE_TIME = Duration.ofSeconds(60);

  private static final Map<Map<String, Object>, Deque<Idle>> IDLE = new HashMap<>();

  private PooledConsumers() {}

  private record Idle(Consumer<byte[], byte[]> consumer, long since) {}

  /** A consumer for {@code config}: an idle one of the pool, else a new one from {@code create}. */
  @SuppressWarnings("unchecked")
  static Consumer<byte[], byte[]> borrow(
      Map<String, Object> config, Supplier<Consumer<byte[], byte[]>> create) {
    Map<String, Object> key = Map.copyOf(config);
    Consumer<byte[], byte[]> consumer = takeIdle(key);
    Consumer<byte[], byte[]> delegate = consumer != null ? consumer : create.get();
    return (Consumer<byte[], byte[]>)
        Proxy.newProxyInstance(
            PooledConsumers.class.getClassLoader(),
            new Class<?>[] {Consumer.class},
            new Handler(key, delegate));
  }

  private static synchronized Consumer<byte[], byte[]> takeIdle(Map<String, Object> key) {
    closeExpired(System.nanoTime());
    Deque<Idle> idle = IDLE.get(key);
    Idle i = idle == null ? null : idle.pollFirst();
    return i == null ? null : i.consumer();
  }

  /** Takes {@code consumer} back; false when the pool for its configuration is full. */
  private static synchronized boolean giveBack(
      Map<String, Object> key, Consumer<byte[], byte[]> consumer) {
    Deque<Idle> idle = IDLE.computeIfAbsent(key, k -> new ArrayDeque<>());
    if (idle.size() >= MAX_IDLE) {
      return false;
    }
    idle.addFirst(new Idle(consumer, System.nanoTime()));
    return true;
  }

  private static void closeExpired(long now) {
    for (Deque<Idle> idle : IDLE.values()) {
      while (!idle.isEmpty() && now - idle.peekLast().since() > MAX_IDLE_TIME.toNanos()) {
        closeQuietly(idle.pollLast().consumer());
      }
    }
  }

  private static void closeQuietly(Consumer<byte[], byte[]> consumer) {
    try {
      consumer.close(Duration.ZERO);
    } catch (RuntimeException e) {
      // an idle consumer that cannot close cleanly is gone all the same
    }
  }

  /** Delegates everything to the pooled consumer, except {@code close}: unassign and give back. */
  private static final class Handler implements InvocationHandler {
    private final Map<String, Object> key;
    private Consumer<byte[], byte[]> delegate;

    Handler(Map<String, Object> key, Consumer<byte[], byte[]> delegate) {
      this.key = key;
      this.delegate = delegate;
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
      if (method.getDeclaringClass() == Object.class) {
        return switch (method.getName()) {
          case "equals" -> proxy == args[0];
          case "hashCode" -> System.identityHashCode(proxy);
          default -> "pooled " + delegate;
        };
      }
      Consumer<byte[], byte[]> d = delegate;
      if (d == null) {
        throw new IllegalStateException("this consumer was closed (returned to the pool)");
      }
      if (method.getName().equals("close")) {
        delegate = null;
        boolean kept = false;
        try {
          d.unsubscribe();
          kept = giveBack(key, d);
        } catch (RuntimeException e) {
          kept = false;
        }
        if (!kept) {
          closeQuietly(d);
        }
        return null;
      }
      try {
        return method.invoke(d, args);
      } catch (InvocationTargetException e) {
        throw e.getCause();
      }
    }
  }
}
