package dev.kappabeam.pipelines.kafka;

/**
 * Kafka is unreachable or not set up as a run needs (missing topic...); the message says what to
 * do.
 */
public final class KafkaSetupException extends RuntimeException {
  public KafkaSetupException(String message) {
    super(message);
  }

  public KafkaSetupException(String message, Throwable cause) {
    super(message, cause);
  }
}
