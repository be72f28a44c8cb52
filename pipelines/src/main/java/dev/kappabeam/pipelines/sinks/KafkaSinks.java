package dev.kappabeam.pipelines.sinks;

import dev.kappabeam.transforms.events.DeadLetter;
import dev.kappabeam.transforms.events.Event;
import dev.kappabeam.transforms.events.SourceRecord;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.beam.sdk.coders.ByteArrayCoder;
import org.apache.beam.sdk.coders.NullableCoder;
import org.apache.beam.sdk.io.kafka.KafkaIO;
import org.apache.beam.sdk.io.kafka.ProducerRecordCoder;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.SimpleFunction;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PDone;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Kafka sinks for the records that do not reach the views.
 *
 * <ul>
 *   <li>{@link #deadLetters}: the original key and value bytes, unchanged, with headers {@code
 *       kb.reason} ({@code code: detail}), {@code kb.error} (the code), {@code kb.source.topic},
 *       {@code kb.source.partition} and {@code kb.source.offset}.
 *   <li>{@link #late}: events later than the allowed lateness, as canonical JSON keyed by user_id,
 *       with header {@code kb.reason = late}.
 * </ul>
 *
 * <p>At-least-once: a retried bundle may write a record twice; consumers can de-duplicate by the
 * source coordinates (dead letters) or event_id (late events).
 */
public final class KafkaSinks {
  public static final String REASON = "kb.reason";
  public static final String ERROR = "kb.error";
  public static final String SOURCE_TOPIC = "kb.source.topic";
  public static final String SOURCE_PARTITION = "kb.source.partition";
  public static final String SOURCE_OFFSET = "kb.source.offset";

  private KafkaSinks() {}

  public static PTransform<PCollection<DeadLetter>, PDone> deadLetters(
      String bootstrapServers, String topic) {
    return new Write<>(bootstrapServers, topic, new DeadLetterToRecord(topic));
  }

  public static PTransform<PCollection<Event>, PDone> late(String bootstrapServers, String topic) {
    return new Write<>(bootstrapServers, topic, new LateToRecord(topic));
  }

  static final class Write<T> extends PTransform<PCollection<T>, PDone> {
    private final String bootstrapServers;
    private final String topic;
    private final SimpleFunction<T, ProducerRecord<byte[], byte[]>> toRecord;

    Write(
        String bootstrapServers,
        String topic,
        SimpleFunction<T, ProducerRecord<byte[], byte[]>> toRecord) {
      this.bootstrapServers = bootstrapServers;
      this.topic = topic;
      this.toRecord = toRecord;
    }

    @Override
    public PDone expand(PCollection<T> input) {
      return input
          .apply("ToProducerRecords", MapElements.via(toRecord))
          .setCoder(
              ProducerRecordCoder.of(
                  NullableCoder.of(ByteArrayCoder.of()), NullableCoder.of(ByteArrayCoder.of())))
          .apply(
              "WriteKafka",
              KafkaIO.<byte[], byte[]>writeRecords()
                  .withBootstrapServers(bootstrapServers)
                  .withTopic(topic)
                  .withKeySerializer(ByteArraySerializer.class)
                  .withValueSerializer(ByteArraySerializer.class));
    }
  }

  static final class DeadLetterToRecord
      extends SimpleFunction<DeadLetter, ProducerRecord<byte[], byte[]>> {
    private final String topic;

    DeadLetterToRecord(String topic) {
      this.topic = topic;
    }

    @Override
    public ProducerRecord<byte[], byte[]> apply(DeadLetter d) {
      SourceRecord r = d.record();
      List<Header> headers =
          List.of(
              header(REASON, d.reason()),
              header(ERROR, d.error().code()),
              header(SOURCE_TOPIC, r.topic()),
              header(SOURCE_PARTITION, Integer.toString(r.partition())),
              header(SOURCE_OFFSET, Long.toString(r.offset())));
      return new ProducerRecord<>(topic, null, null, r.key(), r.value(), headers);
    }
  }

  static final class LateToRecord extends SimpleFunction<Event, ProducerRecord<byte[], byte[]>> {
    private final String topic;

    LateToRecord(String topic) {
      this.topic = topic;
    }

    @Override
    public ProducerRecord<byte[], byte[]> apply(Event e) {
      return new ProducerRecord<>(
          topic,
          null,
          null,
          e.userId().getBytes(StandardCharsets.UTF_8),
          dev.kappabeam.transforms.events.EventJson.toJson(e).getBytes(StandardCharsets.UTF_8),
          List.of(header(REASON, "late")));
    }
  }

  private static Header header(String key, String value) {
    return new RecordHeader(key, value.getBytes(StandardCharsets.UTF_8));
  }
}
