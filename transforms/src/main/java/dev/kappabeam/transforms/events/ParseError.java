package dev.kappabeam.transforms.events;

/** Why a record was rejected. {@link #code()} is stable: dashboards and tests key on it. */
public enum ParseError {
  /** The record has no value (null or zero bytes). */
  EMPTY_RECORD,
  /** The bytes are not valid UTF-8. */
  NOT_UTF8,
  /** Not well-formed JSON: truncated, binary garbage, trailing data, duplicate fields. */
  MALFORMED_JSON,
  /** Well-formed JSON, but not an object (array, string, number...). */
  NOT_AN_OBJECT,
  /** A required field is absent or null. */
  MISSING_FIELD,
  /** A field has the wrong JSON type (e.g. a number where a string is required). */
  WRONG_TYPE,
  /** {@code event_id}, {@code user_id} or {@code item} is an empty or blank string. */
  EMPTY_STRING,
  /** {@code type} is not one of view, click, cart, purchase. */
  INVALID_TYPE,
  /** {@code amount_cents} is negative, fractional or does not fit in 64 bits. */
  INVALID_AMOUNT,
  /** {@code ts} is neither ISO-8601 with Z or an offset nor epoch milliseconds. */
  INVALID_TIMESTAMP;

  /** Lower-case code used at the start of {@link DeadLetter#reason()}. */
  public String code() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
