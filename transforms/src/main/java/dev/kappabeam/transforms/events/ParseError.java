package dev.kappabeam.transforms.events;

/** Why a record was rejected. {@link #code()} is stable: dashboards and tests key on it. */
public enum ParseError {
  /** The record has no value: a tombstone (null) or zero bytes. */
  EMPTY_RECORD,
  /** The value is larger than {@link EventParser#MAX_VALUE_BYTES}; it is not parsed. */
  TOO_LARGE,
  /** The bytes are not valid UTF-8. */
  NOT_UTF8,
  /** Not well-formed JSON: truncated, binary garbage, trailing data, duplicate fields. */
  MALFORMED_JSON,
  /** JSON nested deeper than {@link EventParser#MAX_NESTING_DEPTH} levels. */
  TOO_DEEP,
  /** Well-formed JSON, but not an object (array, string, number...). */
  NOT_AN_OBJECT,
  /** A required field is absent or null. */
  MISSING_FIELD,
  /** A field has the wrong JSON type (e.g. a number where a string is required). */
  WRONG_TYPE,
  /** {@code event_id}, {@code user_id} or {@code item} is an empty or blank string. */
  EMPTY_STRING,
  /**
   * {@code event_id}, {@code user_id} or {@code item} is longer than {@link
   * EventParser#MAX_ID_BYTES} bytes in UTF-8.
   */
  TOO_LONG,
  /** {@code type} is not one of view, click, cart, purchase. */
  INVALID_TYPE,
  /** {@code amount_cents} is negative, fractional or above {@link EventParser#MAX_AMOUNT_CENTS}. */
  INVALID_AMOUNT,
  /** {@code ts} is neither ISO-8601 with Z or an offset nor epoch milliseconds. */
  INVALID_TIMESTAMP;

  /** Lower-case code used at the start of {@link DeadLetter#reason()}. */
  public String code() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
