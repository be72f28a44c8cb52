package dev.kappabeam.transforms.events;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.util.Objects;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * A record that could not be accepted: the original record (raw bytes and source coordinates) and
 * why.
 *
 * <p>{@code reason} starts with a stable machine-readable code (the reference format's are those of
 * {@link ParseError}; a team's {@link EventFormat} has its own) followed by {@code ": "} and a
 * human-readable detail, e.g. {@code "invalid_type: 'refund' is not one of view, click, cart,
 * purchase"}.
 */
public final class DeadLetter implements Serializable {
  private final SourceRecord record;
  private final String code;
  private final String detail;

  public DeadLetter(SourceRecord record, ParseError error, String detail) {
    this(record, error.code(), detail);
  }

  /**
   * @param code lower-case letters, digits and single underscores ({@link Parsed#rejected})
   */
  public DeadLetter(SourceRecord record, String code, String detail) {
    this.record = Objects.requireNonNull(record, "record");
    this.code = Parsed.checkedCode(code);
    this.detail = Objects.requireNonNull(detail, "detail");
  }

  public SourceRecord record() {
    return record;
  }

  /** The reason's stable code, e.g. {@code malformed_json}. */
  public String code() {
    return code;
  }

  public String detail() {
    return detail;
  }

  /** {@code code: detail}, as written to the dead-letter sink. */
  public String reason() {
    return code + ": " + detail;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (!(o instanceof DeadLetter)) {
      return false;
    }
    DeadLetter d = (DeadLetter) o;
    return record.equals(d.record) && code.equals(d.code) && detail.equals(d.detail);
  }

  @Override
  public int hashCode() {
    return Objects.hash(record, code, detail);
  }

  @Override
  public String toString() {
    return "DeadLetter{" + record + ", " + reason() + "}";
  }

  /** Deterministic coder: the record, the code, the detail. */
  public static final class Coder extends AtomicCoder<DeadLetter> {
    private static final Coder INSTANCE = new Coder();

    public static Coder of() {
      return INSTANCE;
    }

    private Coder() {}

    @Override
    public void encode(DeadLetter d, OutputStream out) throws IOException {
      SourceRecord.Coder.of().encode(d.record, out);
      StringUtf8Coder.of().encode(d.code, out);
      StringUtf8Coder.of().encode(d.detail, out);
    }

    @Override
    public DeadLetter decode(InputStream in) throws IOException {
      return new DeadLetter(
          SourceRecord.Coder.of().decode(in),
          StringUtf8Coder.of().decode(in),
          StringUtf8Coder.of().decode(in));
    }

    @Override
    public void verifyDeterministic() {}
  }
}
