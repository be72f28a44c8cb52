package dev.kappabeam.archive;

import dev.kappabeam.transforms.events.SourceRecord;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * One archived Kafka record, as a row of the archive's Parquet files: the record unchanged (key and
 * value bytes, headers in order) with its coordinates and Kafka timestamp.
 *
 * <pre>
 * topic STRING, partition INT, offset LONG, timestamp LONG (epoch millis), timestamp_type STRING
 * (CreateTime, LogAppendTime or NoTimestampType), key BYTES?, value BYTES?,
 * headers ARRAY&lt;{key STRING, value BYTES?}&gt;
 * </pre>
 */
public final class ArchiveRecords {
  private ArchiveRecords() {}

  /** The rows' Avro schema (Parquet's schema is derived from it). */
  public static final Schema SCHEMA =
      new Schema.Parser()
          .parse(
              "{\"type\":\"record\",\"name\":\"KafkaRecord\",\"namespace\":\"dev.kappabeam.archive\","
                  + "\"fields\":["
                  + "{\"name\":\"topic\",\"type\":\"string\"},"
                  + "{\"name\":\"partition\",\"type\":\"int\"},"
                  + "{\"name\":\"offset\",\"type\":\"long\"},"
                  + "{\"name\":\"timestamp\",\"type\":\"long\"},"
                  + "{\"name\":\"timestamp_type\",\"type\":\"string\"},"
                  + "{\"name\":\"key\",\"type\":[\"null\",\"bytes\"],\"default\":null},"
                  + "{\"name\":\"value\",\"type\":[\"null\",\"bytes\"],\"default\":null},"
                  + "{\"name\":\"headers\",\"type\":{\"type\":\"array\",\"items\":"
                  + "{\"type\":\"record\",\"name\":\"Header\",\"fields\":["
                  + "{\"name\":\"key\",\"type\":\"string\"},"
                  + "{\"name\":\"value\",\"type\":[\"null\",\"bytes\"],\"default\":null}]}}}"
                  + "]}");

  private static final Schema HEADER = SCHEMA.getField("headers").schema().getElementType();

  /** A consumed record as an archive row. */
  public static GenericRecord of(ConsumerRecord<byte[], byte[]> r) {
    GenericRecord row = new GenericData.Record(SCHEMA);
    row.put("topic", r.topic());
    row.put("partition", r.partition());
    row.put("offset", r.offset());
    row.put("timestamp", r.timestamp());
    row.put("timestamp_type", r.timestampType().name);
    row.put("key", buffer(r.key()));
    row.put("value", buffer(r.value()));
    List<GenericRecord> headers = new ArrayList<>();
    for (Header h : r.headers()) {
      GenericRecord header = new GenericData.Record(HEADER);
      header.put("key", h.key());
      header.put("value", buffer(h.value()));
      headers.add(header);
    }
    row.put("headers", headers);
    return row;
  }

  /** An archive row as the record the pipelines read (coordinates, key, value, headers). */
  public static SourceRecord toSourceRecord(GenericRecord row) {
    List<SourceRecord.Header> headers = new ArrayList<>();
    for (Object o : (List<?>) row.get("headers")) {
      GenericRecord h = (GenericRecord) o;
      headers.add(new SourceRecord.Header(h.get("key").toString(), bytes(h.get("value"))));
    }
    return new SourceRecord(
        row.get("topic").toString(),
        (Integer) row.get("partition"),
        (Long) row.get("offset"),
        bytes(row.get("key")),
        bytes(row.get("value")),
        headers);
  }

  /** The bytes of an Avro BYTES value (a ByteBuffer), null for null. */
  public static byte @Nullable [] bytes(@Nullable Object value) {
    if (value == null) {
      return null;
    }
    ByteBuffer b = ((ByteBuffer) value).duplicate();
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }

  private static @Nullable ByteBuffer buffer(byte @Nullable [] bytes) {
    return bytes == null ? null : ByteBuffer.wrap(bytes);
  }
}
