package dev.kappabeam.devstack;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Topic management for the local broker, which does not auto-create topics.
 *
 * <p>Every call opens a short-lived admin client with short timeouts and fails with a {@link
 * LocalStackException} that names the bootstrap servers when the broker does not answer.
 */
public final class KafkaTopics {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private KafkaTopics() {}

  /**
   * Creates {@code topic} with {@code partitions} partitions (replication factor 1) unless it
   * exists. Returns whether it was created; an existing topic is not changed.
   */
  public static boolean ensure(String bootstrapServers, String topic, int partitions) {
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be at least 1, got " + partitions);
    }
    try (Admin admin = admin(bootstrapServers)) {
      admin
          .createTopics(List.of(new NewTopic(topic, partitions, (short) 1)))
          .all()
          .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (ExecutionException e) {
      if (e.getCause() instanceof TopicExistsException) {
        return false;
      }
      throw failure("create topic " + topic, bootstrapServers, e.getCause());
    } catch (TimeoutException | InterruptedException e) {
      throw interruptedOrTimedOut("create topic " + topic, bootstrapServers, e);
    }
  }

  /** Returns the partition count of {@code topic}, or empty if it does not exist. */
  public static Optional<Integer> partitions(String bootstrapServers, String topic) {
    try (Admin admin = admin(bootstrapServers)) {
      return Optional.of(
          admin
              .describeTopics(List.of(topic))
              .allTopicNames()
              .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
              .get(topic)
              .partitions()
              .size());
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UnknownTopicOrPartitionException) {
        return Optional.empty();
      }
      throw failure("describe topic " + topic, bootstrapServers, e.getCause());
    } catch (TimeoutException | InterruptedException e) {
      throw interruptedOrTimedOut("describe topic " + topic, bootstrapServers, e);
    }
  }

  /** Deletes the topics that exist among {@code topics}; missing ones are ignored. */
  public static void delete(String bootstrapServers, Collection<String> topics) {
    try (Admin admin = admin(bootstrapServers)) {
      for (KafkaFuture<Void> future : admin.deleteTopics(topics).topicNameValues().values()) {
        try {
          future.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
            throw failure("delete topics " + topics, bootstrapServers, e.getCause());
          }
        }
      }
    } catch (TimeoutException | InterruptedException e) {
      throw interruptedOrTimedOut("delete topics " + topics, bootstrapServers, e);
    }
  }

  private static Admin admin(String bootstrapServers) {
    return Admin.create(
        Map.of(
            AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrapServers,
            AdminClientConfig.CLIENT_ID_CONFIG,
            "kb-devstack-topics",
            AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
            (int) TIMEOUT.toMillis(),
            AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG,
            10_000));
  }

  private static LocalStackException failure(String what, String servers, Throwable cause) {
    return new LocalStackException(
        "Could not " + what + " on " + servers + ": " + cause.getMessage(), cause);
  }

  private static LocalStackException interruptedOrTimedOut(
      String what, String servers, Exception e) {
    if (e instanceof InterruptedException) {
      Thread.currentThread().interrupt();
      return new LocalStackException("Interrupted while trying to " + what, e);
    }
    return new LocalStackException(
        "Could not "
            + what
            + ": the broker at "
            + servers
            + " did not answer within "
            + TIMEOUT.toSeconds()
            + " s. Is the local stack running?",
        e);
  }
}
