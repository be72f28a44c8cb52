package dev.kappabeam.pipelines.sinks;

import dev.kappabeam.pipelines.kafka.KafkaClientConfig;
import dev.kappabeam.transforms.events.DeadLetter;
import dev.kappabeam.transforms.events.Event;
import dev.kappabeam.transforms.events.EventFormat;
import dev.kappabeam.transforms.events.ReferenceFormat;
import dev.kappabeam.transforms.events.SourceRecord;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.ByteArrayCoder;
import org.apache.beam.sdk.coders.NullableCoder;
import org.apache.beam.sdk.io.kafka.KafkaIO;
import org.apache.beam.sdk.io.kafka.ProducerRecordCoder;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.SimpleFunction;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PDone;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Kafka sinks for the records that do not reach the views.
 *
 * <ul>
 *   <li>{@link #deadLetters}: the original key and value bytes and the original headers, followed
 *       by headers {@code kb.reason} ({@code code: detail}), {@code kb.error} (the code), {@code
 *       kb.source.topic}, {@code kb.source.partition} and {@code kb.source.offset}. A dead letter
 *       larger than the sink's record limit is truncated to fit rather than failing the run: its
 *       value is cut (then, if that is not enough, the original headers dropped and the key cut to
 *       {@value #TRUNCATED_KEY_BYTES} bytes), marked with {@code kb.truncated = true}, {@code
 *       kb.original.size} and {@code kb.original.sha256} (of the whole value), and {@code
 *       kb.original.key.size}, {@code kb.original.key.sha256}, {@code kb.headers.dropped} when
 *       those were cut.
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
  public static final String TRUNCATED = "kb.truncated";
  public static final String ORIGINAL_SIZE = "kb.original.size";
  public static final String ORIGINAL_SHA256 = "kb.original.sha256";
  public static final String ORIGINAL_KEY_SIZE = "kb.original.key.size";
  public static final String ORIGINAL_KEY_SHA256 = "kb.original.key.sha256";
  public static final String HEADERS_DROPPED = "kb.headers.dropped";

  /**
   * The default record limit: a Kafka producer's default {@code max.request.size} (1 MiB), which
   * also is the broker's default {@code max.message.bytes} (give or take a batch header).
   */
  public static final int DEFAULT_MAX_RECORD_BYTES = 1 << 20;

  /** A key longer than this is cut when a dead letter does not fit otherwise. */
  static final int TRUNCATED_KEY_BYTES = 1024;

  /**
   * Room for what a record costs beyond its key, value and header bytes: a batch header (61 bytes),
   * the record's framing (at most 21) and the length varints, with margin.
   */
  static final int RECORD_OVERHEAD_BYTES = 256;

  private KafkaSinks() {}

  /** Dead letters to {@code topic}, each at most {@link #DEFAULT_MAX_RECORD_BYTES}. */
  public static PTransform<PCollection<DeadLetter>, PDone> deadLetters(
      KafkaClientConfig kafka, String topic) {
    return deadLetters(kafka, topic, DEFAULT_MAX_RECORD_BYTES);
  }

  /**
   * Dead letters to {@code topic}, each at most {@code maxRecordBytes} (the producer's {@code
   * max.request.size} is set to it; pass at most the topic's {@code max.message.bytes}).
   */
  public static PTransform<PCollection<DeadLetter>, PDone> deadLetters(
      KafkaClientConfig kafka, String topic, int maxRecordBytes) {
    if (maxRecordBytes <= RECORD_OVERHEAD_BYTES + TRUNCATED_KEY_BYTES) {
      throw new IllegalArgumentException(
          "the dead-letter record limit must be more than "
              + (RECORD_OVERHEAD_BYTES + TRUNCATED_KEY_BYTES)
              + " bytes, got "
              + maxRecordBytes
              + "; raise max.message.bytes of "
              + topic);
    }
    return new Write<>(kafka, topic, maxRecordBytes, new DeadLetterToRecord(topic, maxRecordBytes));
  }

  /** Late reference events, as their canonical JSON keyed by user. */
  public static PTransform<PCollection<Event>, PDone> late(KafkaClientConfig kafka, String topic) {
    return late(kafka, topic, ReferenceFormat.of());
  }

  /** Late events of {@code format}, as the format writes them ({@link EventFormat#toBytes}). */
  public static <E> PTransform<PCollection<E>, PDone> late(
      KafkaClientConfig kafka, String topic, EventFormat<E> format) {
    return new Write<>(kafka, topic, DEFAULT_MAX_RECORD_BYTES, new LateToRecord<>(topic, format));
  }

  static final class Write<T> extends PTransform<PCollection<T>, PDone> {
    private final KafkaClientConfig kafka;
    private final String topic;
    private final int maxRecordBytes;
    private final SimpleFunction<T, ProducerRecord<byte[], byte[]>> toRecord;

    Write(
        KafkaClientConfig kafka,
        String topic,
        int maxRecordBytes,
        SimpleFunction<T, ProducerRecord<byte[], byte[]>> toRecord) {
      this.kafka = kafka;
      this.topic = topic;
      this.maxRecordBytes = maxRecordBytes;
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
                  .withBootstrapServers(kafka.bootstrapServers())
                  .withProducerFactoryFn(kafka.producerFactory())
                  .withTopic(topic)
                  .withProducerConfigUpdates(producerConfig(maxRecordBytes))
                  .withKeySerializer(ByteArraySerializer.class)
                  .withValueSerializer(ByteArraySerializer.class));
    }
  }

  /**
   * The producer settings of the sinks: records up to {@code maxRecordBytes}, and Kafka's own
   * {@code retries} (unlimited within {@code delivery.timeout.ms}, 2 min by default) instead of
   * KafkaIO's 3, which a broker restart used up before the partitions had a leader again
   * (NotLeaderOrFollowerException failed the bundle: DirectRunner ended the run, Flink restarted
   * the job). A client properties file ({@code --kafka-config}) may still set either.
   */
  static Map<String, Object> producerConfig(int maxRecordBytes) {
    return Map.of(
        ProducerConfig.MAX_REQUEST_SIZE_CONFIG,
        maxRecordBytes,
        ProducerConfig.RETRIES_CONFIG,
        Integer.MAX_VALUE);
  }

  static final class DeadLetterToRecord
      extends SimpleFunction<DeadLetter, ProducerRecord<byte[], byte[]>> {
    private final String topic;
    private final int maxRecordBytes;

    DeadLetterToRecord(String topic, int maxRecordBytes) {
      this.topic = topic;
      this.maxRecordBytes = maxRecordBytes;
    }

    @Override
    public ProducerRecord<byte[], byte[]> apply(DeadLetter d) {
      SourceRecord r = d.record();
      List<Header> source = new ArrayList<>();
      for (SourceRecord.Header h : r.headers()) {
        source.add(new RecordHeader(h.key(), h.value()));
      }
      List<Header> ours =
          new ArrayList<>(
              List.of(
                  header(REASON, d.reason()),
                  header(ERROR, d.code()),
                  header(SOURCE_TOPIC, r.topic()),
                  header(SOURCE_PARTITION, Integer.toString(r.partition())),
                  header(SOURCE_OFFSET, Long.toString(r.offset()))));
      byte[] key = r.key();
      byte[] value = r.value();
      if (size(key, value, source, ours) > maxRecordBytes) {
        ours.add(header(TRUNCATED, "true"));
        if (value != null) {
          ours.add(header(ORIGINAL_SIZE, Integer.toString(value.length)));
          ours.add(header(ORIGINAL_SHA256, sha256(value)));
        }
        if (size(key, null, source, ours) > maxRecordBytes) {
          ours.add(header(HEADERS_DROPPED, Integer.toString(source.size())));
          source = List.of();
          if (key != null && key.length > TRUNCATED_KEY_BYTES) {
            ours.add(header(ORIGINAL_KEY_SIZE, Integer.toString(key.length)));
            ours.add(header(ORIGINAL_KEY_SHA256, sha256(key)));
            key = Arrays.copyOf(key, TRUNCATED_KEY_BYTES);
          }
        }
        if (value != null) {
          long room = maxRecordBytes - size(key, null, source, ours);
          value = Arrays.copyOf(value, (int) Math.max(0, Math.min(value.length, room)));
        }
      }
      List<Header> headers = new ArrayList<>(source);
      headers.addAll(ours);
      return new ProducerRecord<>(topic, null, null, key, value, headers);
    }
  }

  /** An upper bound of a record's size as the producer and the broker count it. */
  static long size(
      byte @Nullable [] key, byte @Nullable [] value, List<Header> source, List<Header> ours) {
    long n = RECORD_OVERHEAD_BYTES;
    n += key == null ? 0 : key.length;
    n += value == null ? 0 : value.length;
    for (List<Header> headers : List.of(source, ours)) {
      for (Header h : headers) {
        n += 10 + h.key().getBytes(StandardCharsets.UTF_8).length;
        n += h.value() == null ? 0 : h.value().length;
      }
    }
    return n;
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  static final class LateToRecord<E> extends SimpleFunction<E, ProducerRecord<byte[], byte[]>> {
    private final String topic;
    private final EventFormat<E> format;

    LateToRecord(String topic, EventFormat<E> format) {
      this.topic = topic;
      this.format = format;
    }

    @Override
    public ProducerRecord<byte[], byte[]> apply(E e) {
      return new ProducerRecord<>(
          topic, null, null, format.lateKey(e), format.toBytes(e), List.of(header(REASON, "late")));
    }
  }

  private static Header header(String key, String value) {
    return new RecordHeader(key, value.getBytes(StandardCharsets.UTF_8));
  }
}
