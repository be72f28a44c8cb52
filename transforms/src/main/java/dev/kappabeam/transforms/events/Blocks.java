package dev.kappabeam.transforms.events;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.util.VarInt;

/**
 * A coder's value written as one length-prefixed block: encoded first into a plain byte array of
 * the thread, then handed to the runner's stream in one call, and read back the same way. Beam's
 * coders write small values byte by byte (a string's length, a varint); through a runner's stream
 * wrapper (Flink's {@code DataOutputViewWrapper}) each of those calls costs far more than the byte:
 * a tenth of a historical replay went into the varint lengths of the events' strings.
 */
final class Blocks {
  private Blocks() {}

  private static final ThreadLocal<Out> BUFFER = ThreadLocal.withInitial(Out::new);

  /** What encodes a value into a plain stream. */
  interface Writer {
    void writeTo(OutputStream out) throws IOException;
  }

  /** What decodes a value from a plain stream. */
  interface Reader<T> {
    T readFrom(InputStream in) throws IOException;
  }

  static void write(OutputStream out, Writer writer) throws IOException {
    Out buffer = BUFFER.get();
    buffer.size = 0;
    writer.writeTo(buffer);
    VarInt.encode(buffer.size, out);
    out.write(buffer.bytes, 0, buffer.size);
    if (buffer.bytes.length > MAX_KEPT) {
      BUFFER.remove(); // one huge value: do not keep its buffer for the thread's life
    }
  }

  static <T> T read(InputStream in, Reader<T> reader) throws IOException {
    int n = VarInt.decodeInt(in);
    if (n < 0) {
      throw new CoderException("negative block length " + n);
    }
    byte[] bytes = new byte[n];
    int read = 0;
    while (read < n) {
      int r = in.read(bytes, read, n - read);
      if (r < 0) {
        throw new CoderException("truncated block: " + read + " of " + n + " bytes");
      }
      read += r;
    }
    In block = new In(bytes);
    T value = reader.readFrom(block);
    if (block.pos != n) {
      throw new CoderException("block of " + n + " bytes decoded to " + block.pos);
    }
    return value;
  }

  private static final int MAX_KEPT = 16 << 20;

  /** An unsynchronised growable byte array ({@code ByteArrayOutputStream} locks every write). */
  private static final class Out extends OutputStream {
    byte[] bytes = new byte[8192];
    int size;

    private void ensure(int more) {
      if (size + more > bytes.length) {
        bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + more));
      }
    }

    @Override
    public void write(int b) {
      ensure(1);
      bytes[size++] = (byte) b;
    }

    @Override
    public void write(byte[] b, int off, int len) {
      ensure(len);
      System.arraycopy(b, off, bytes, size, len);
      size += len;
    }
  }

  /** An unsynchronised reader of one block. */
  private static final class In extends InputStream {
    private final byte[] bytes;
    int pos;

    In(byte[] bytes) {
      this.bytes = bytes;
    }

    @Override
    public int read() {
      return pos < bytes.length ? bytes[pos++] & 0xff : -1;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (len == 0) {
        return 0;
      }
      if (pos >= bytes.length) {
        return -1;
      }
      int n = Math.min(len, bytes.length - pos);
      System.arraycopy(bytes, pos, b, off, n);
      pos += n;
      return n;
    }

    @Override
    public int available() {
      return bytes.length - pos;
    }
  }
}
