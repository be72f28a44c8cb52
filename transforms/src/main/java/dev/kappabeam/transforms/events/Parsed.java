package dev.kappabeam.transforms.events;

import java.util.Objects;
import java.util.regex.Pattern;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * What an {@link EventFormat} made of one record value: an event, or the reason it is rejected (a
 * stable code and a human-readable detail; the record then goes to the dead-letter output as {@code
 * code: detail}).
 *
 * <pre>{@code
 * return amount < 0
 *     ? Parsed.rejected("invalid_amount", "total_cents is negative: " + amount)
 *     : Parsed.ok(new Order(...));
 * }</pre>
 */
public class Parsed<E> {
  private static final Pattern CODE = Pattern.compile("[a-z][a-z0-9]*(_[a-z0-9]+)*");

  private final @Nullable E event;
  private final @Nullable String code;
  private final String detail;

  /** For {@link EventParser.Result}; others use {@link #ok} and {@link #rejected}. */
  Parsed(@Nullable E event, @Nullable String code, String detail) {
    this.event = event;
    this.code = code;
    this.detail = detail;
  }

  /** A valid event. */
  public static <E> Parsed<E> ok(E event) {
    return new Parsed<>(Objects.requireNonNull(event, "event"), null, "");
  }

  /**
   * A rejected record.
   *
   * @param code lower-case letters, digits and single underscores, e.g. {@code missing_field}:
   *     dashboards and tests key on it, so keep it stable
   * @param detail one line that tells a human what is wrong with the record (never the whole value:
   *     dead letters keep the record itself)
   */
  public static <E> Parsed<E> rejected(String code, String detail) {
    return new Parsed<>(null, checkedCode(code), Objects.requireNonNull(detail, "detail"));
  }

  static String checkedCode(String code) {
    if (code == null || !CODE.matcher(code).matches()) {
      throw new IllegalArgumentException(
          "a dead-letter code is lower-case letters, digits and single underscores, got '"
              + code
              + "'");
    }
    return code;
  }

  public final boolean isValid() {
    return event != null;
  }

  /** The event; only when {@link #isValid()}. */
  public final E event() {
    return Objects.requireNonNull(event, "not a valid record");
  }

  /** The reason's code; only when not {@link #isValid()}. */
  public final String code() {
    return Objects.requireNonNull(code, "record is valid");
  }

  public final String detail() {
    return detail;
  }

  @Override
  public String toString() {
    return isValid() ? event().toString() : code() + ": " + detail;
  }
}
