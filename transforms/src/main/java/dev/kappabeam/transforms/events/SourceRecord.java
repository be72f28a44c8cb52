package dev.kappabeam.transforms.events;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.ByteArrayCoder;
import org.apache.beam.sdk.coders.NullableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * One raw record as read from the log, with its source coordinates and headers.
 *
 * <p>The input of {@link ParseEvents}. {@code value} is the record's raw bytes (may be {@code
 * null}, e.g. a Kafka tombstone, which is a dead letter). {@code headers} are the record's headers
 * in order, kept so that a dead letter carries them on. Sources without coordinates (tests, files)
 * use {@link #unknownSource(byte[])}: topic empty, partition and offset -1.
 */
public final class SourceRecord implements Serializable {
  private final String topic;
  private final int partition;
  private final long offset;
  private final byte @Nullable [] key;
  private final byte @Nullable [] value;
  private final List<Header> headers;

  public SourceRecord(
      String topic, int partition, long offset, byte @Nullable [] key, byte @Nullable [] value) {
    this(topic, partition, offset, key, value, List.of());
  }

  public SourceRecord(
      String topic,
      int partition,
      long offset,
      byte @Nullable [] key,
      byte @Nullable [] value,
      List<Header> headers) {
    this.topic = Objects.requireNonNull(topic, "topic");
    this.partition = partition;
    this.offset = offset;
    this.key = key;
    this.value = value;
    this.headers = headers.isEmpty() ? List.of() : List.copyOf(headers);
  }

  /** A record whose origin has no topic/partition/offset. */
  public static SourceRecord unknownSource(byte @Nullable [] value) {
    return new SourceRecord("", -1, -1L, null, value);
  }

  public String topic() {
    return topic;
  }

  public int partition() {
    return partition;
  }

  public long offset() {
    return offset;
  }

  public byte @Nullable [] key() {
    return key;
  }

  public byte @Nullable [] value() {
    return value;
  }

  /** The record's headers, in order (a key may repeat). */
  public List<Header> headers() {
    return headers;
  }

  /** One record header: a key and raw bytes (which may be {@code null}). */
  public static final class Header implements Serializable {
    private final String key;
    private final byte @Nullable [] value;

    public Header(String key, byte @Nullable [] value) {
      this.key = Objects.requireNonNull(key, "key");
      this.value = value;
    }

    public String key() {
      return key;
    }

    public byte @Nullable [] value() {
      return value;
    }

    @Override
    public boolean equals(@Nullable Object o) {
      return o instanceof Header
          && key.equals(((Header) o).key)
          && Arrays.equals(value, ((Header) o).value);
    }

    @Override
    public int hashCode() {
      return key.hashCode() * 31 + Arrays.hashCode(value);
    }

    @Override
    public String toString() {
      return key + "=" + (value == null ? "null" : value.length + " bytes");
    }
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (!(o instanceof SourceRecord)) {
      return false;
    }
    SourceRecord r = (SourceRecord) o;
    return partition == r.partition
        && offset == r.offset
        && topic.equals(r.topic)
        && Arrays.equals(key, r.key)
        && Arrays.equals(value, r.value)
        && headers.equals(r.headers);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        topic, partition, offset, Arrays.hashCode(key), Arrays.hashCode(value), headers);
  }

  @Override
  public String toString() {
    return topic + "/" + partition + "@" + offset;
  }

  /**
   * Deterministic coder for {@link SourceRecord}: fixed field order, nullable byte arrays, then the
   * headers (count, then key and nullable value of each).
   */
  public static final class Coder extends AtomicCoder<SourceRecord> {
    private static final Coder INSTANCE = new Coder();
    private static final NullableCoder<byte[]> BYTES = NullableCoder.of(ByteArrayCoder.of());

    public static Coder of() {
      return INSTANCE;
    }

    private Coder() {}

    @Override
    public void encode(SourceRecord r, OutputStream out) throws IOException {
      StringUtf8Coder.of().encode(r.topic, out);
      VarIntCoder.of().encode(r.partition, out);
      VarLongCoder.of().encode(r.offset, out);
      BYTES.encode(r.key, out);
      BYTES.encode(r.value, out);
      VarIntCoder.of().encode(r.headers.size(), out);
      for (Header h : r.headers) {
        StringUtf8Coder.of().encode(h.key, out);
        BYTES.encode(h.value, out);
      }
    }

    @Override
    public SourceRecord decode(InputStream in) throws IOException {
      String topic = StringUtf8Coder.of().decode(in);
      int partition = VarIntCoder.of().decode(in);
      long offset = VarLongCoder.of().decode(in);
      byte[] key = BYTES.decode(in);
      byte[] value = BYTES.decode(in);
      int n = VarIntCoder.of().decode(in);
      List<Header> headers = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        headers.add(new Header(StringUtf8Coder.of().decode(in), BYTES.decode(in)));
      }
      return new SourceRecord(topic, partition, offset, key, value, headers);
    }

    @Override
    public void verifyDeterministic() {}
  }
}
