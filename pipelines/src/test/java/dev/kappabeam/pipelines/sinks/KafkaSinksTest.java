package dev.kappabeam.pipelines.sinks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.pipelines.kafka.KafkaClientConfig;
import dev.kappabeam.transforms.events.DeadLetter;
import dev.kappabeam.transforms.events.ParseError;
import dev.kappabeam.transforms.events.SourceRecord;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.record.AbstractRecords;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.RecordBatch;
import org.junit.jupiter.api.Test;

/** Dead letters as Kafka records: headers carried on, and oversized ones cut to fit. */
class KafkaSinksTest {
  private static final int LIMIT = KafkaSinks.DEFAULT_MAX_RECORD_BYTES;

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] filled(int size, char c) {
    byte[] b = new byte[size];
    Arrays.fill(b, (byte) c);
    return b;
  }

  private static ProducerRecord<byte[], byte[]> toRecord(
      byte[] key, byte[] value, List<SourceRecord.Header> headers, int limit) {
    SourceRecord r = new SourceRecord("events", 2, 77L, key, value, headers);
    return new KafkaSinks.DeadLetterToRecord("events.dlq", limit)
        .apply(new DeadLetter(r, ParseError.TOO_LARGE, "record value is big"));
  }

  private static String header(ProducerRecord<?, ?> r, String key) {
    Header h = r.headers().lastHeader(key);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }

  /** What the producer itself will count, which must not pass max.request.size. */
  private static int producerSize(ProducerRecord<byte[], byte[]> r) {
    return AbstractRecords.estimateSizeInBytesUpperBound(
        RecordBatch.CURRENT_MAGIC_VALUE,
        CompressionType.NONE,
        r.key(),
        r.value(),
        r.headers().toArray());
  }

  @Test
  void sinksRetryUntilTheDeliveryTimeoutNotThreeTimes() {
    // KafkaIO's writer defaults to retries=3: a broker restart failed the bundle (BrokerRestartIT).
    Map<String, Object> config = KafkaSinks.producerConfig(4096);
    assertEquals(Integer.MAX_VALUE, config.get(ProducerConfig.RETRIES_CONFIG));
    assertEquals(4096, config.get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG));
  }

  @Test
  void aDeadLetterKeepsKeyValueAndTheSourceHeadersBeforeItsOwn() {
    List<SourceRecord.Header> source =
        List.of(
            new SourceRecord.Header("trace", utf8("t-1")),
            new SourceRecord.Header(KafkaSinks.REASON, utf8("spoofed")),
            new SourceRecord.Header("nothing", null));
    ProducerRecord<byte[], byte[]> r = toRecord(new byte[0], utf8("{bad"), source, LIMIT);
    assertArrayEquals(new byte[0], r.key());
    assertArrayEquals(utf8("{bad"), r.value());
    List<String> keys = new ArrayList<>();
    r.headers().forEach(h -> keys.add(h.key()));
    assertEquals(
        List.of(
            "trace",
            KafkaSinks.REASON,
            "nothing",
            KafkaSinks.REASON,
            KafkaSinks.ERROR,
            KafkaSinks.SOURCE_TOPIC,
            KafkaSinks.SOURCE_PARTITION,
            KafkaSinks.SOURCE_OFFSET),
        keys);
    assertEquals("too_large: record value is big", header(r, KafkaSinks.REASON));
    assertNull(r.headers().headers("nothing").iterator().next().value());
    assertNull(header(r, KafkaSinks.TRUNCATED));
  }

  @Test
  void a900KbDeadLetterIsWrittenWhole() {
    byte[] value = filled(900 * 1024, 'v');
    ProducerRecord<byte[], byte[]> r = toRecord(utf8("u-1"), value, List.of(), LIMIT);
    assertArrayEquals(value, r.value());
    assertNull(header(r, KafkaSinks.TRUNCATED));
    assertTrue(producerSize(r) <= LIMIT);
  }

  @Test
  void a2MbDeadLetterIsCutToFitWithItsSizeAndDigest() {
    byte[] value = filled(2 << 20, 'v');
    value[0] = '{';
    List<SourceRecord.Header> source = List.of(new SourceRecord.Header("trace", utf8("t-1")));
    ProducerRecord<byte[], byte[]> r = toRecord(utf8("u-1"), value, source, LIMIT);
    assertTrue(producerSize(r) <= LIMIT, "producer size " + producerSize(r));
    assertTrue(r.value().length > LIMIT - 2048, "keeps as much as fits: " + r.value().length);
    assertArrayEquals(Arrays.copyOf(value, r.value().length), r.value(), "a prefix");
    assertEquals("true", header(r, KafkaSinks.TRUNCATED));
    assertEquals(Integer.toString(2 << 20), header(r, KafkaSinks.ORIGINAL_SIZE));
    assertEquals(KafkaSinks.sha256(value), header(r, KafkaSinks.ORIGINAL_SHA256));
    assertEquals(64, header(r, KafkaSinks.ORIGINAL_SHA256).length());
    assertEquals("t-1", header(r, "trace"));
    assertArrayEquals(utf8("u-1"), r.key());
  }

  @Test
  void aDeadLetterOnATopicWithASmallerLimitIsCutToThatLimit() {
    byte[] value = filled(900 * 1024, 'v');
    ProducerRecord<byte[], byte[]> r = toRecord(utf8("u-1"), value, List.of(), 100_000);
    assertTrue(producerSize(r) <= 100_000);
    assertEquals("true", header(r, KafkaSinks.TRUNCATED));
  }

  @Test
  void aHugeKeyAndHugeHeadersAreCutOrDroppedToo() {
    byte[] key = filled(3 << 20, 'k');
    List<SourceRecord.Header> source =
        List.of(
            new SourceRecord.Header("big", filled(2 << 20, 'h')),
            new SourceRecord.Header("small", utf8("s")));
    ProducerRecord<byte[], byte[]> r = toRecord(key, filled(5000, 'v'), source, LIMIT);
    assertTrue(producerSize(r) <= LIMIT);
    assertEquals(KafkaSinks.TRUNCATED_KEY_BYTES, r.key().length);
    assertEquals(Integer.toString(3 << 20), header(r, KafkaSinks.ORIGINAL_KEY_SIZE));
    assertEquals(KafkaSinks.sha256(key), header(r, KafkaSinks.ORIGINAL_KEY_SHA256));
    assertEquals("2", header(r, KafkaSinks.HEADERS_DROPPED));
    assertNull(header(r, "big"));
    assertEquals(5000, r.value().length, "the value fits once the key and headers are cut");
  }

  @Test
  void aTombstoneWithAHugeKeyIsCut() {
    ProducerRecord<byte[], byte[]> r = toRecord(filled(2 << 20, 'k'), null, List.of(), LIMIT);
    assertNull(r.value());
    assertEquals(KafkaSinks.TRUNCATED_KEY_BYTES, r.key().length);
    assertTrue(producerSize(r) <= LIMIT);
  }

  @Test
  void aLimitTooSmallForADeadLetterIsRefused() {
    assertThrows(
        IllegalArgumentException.class,
        () -> KafkaSinks.deadLetters(KafkaClientConfig.of("localhost:9"), "t", 1000));
  }
}
