package dev.kappabeam.generator;

import dev.kappabeam.transforms.events.ParseError;

/**
 * The kinds of malformed record the {@link WorkloadGenerator} produces, each with the {@link
 * ParseError} that {@link dev.kappabeam.transforms.events.EventParser} must report for it.
 *
 * <p>Every other field of a malformed record is valid, so the record fails for exactly this one
 * reason (the parser stops at the first problem it finds).
 */
public enum MalformedKind {
  /** A {@code null} value, as a Kafka tombstone. */
  NULL_VALUE(ParseError.EMPTY_RECORD),
  /** A zero-length value. */
  EMPTY_VALUE(ParseError.EMPTY_RECORD),
  /** A JSON event with an invalid UTF-8 byte sequence inside the {@code user_id} string. */
  INVALID_UTF8(ParseError.NOT_UTF8),
  /** A JSON event cut off before its closing brace (at a character boundary). */
  TRUNCATED_JSON(ParseError.MALFORMED_JSON),
  /** Printable text, ASCII and non-ASCII, that is valid UTF-8 but not JSON. */
  GARBAGE_TEXT(ParseError.MALFORMED_JSON),
  /** A JSON array holding one event (a batch sent as one record). */
  JSON_ARRAY(ParseError.NOT_AN_OBJECT),
  /** A JSON string holding the event's JSON text (double-encoded). */
  JSON_STRING(ParseError.NOT_AN_OBJECT),
  /** No {@code event_id} (absent or {@code null}). */
  MISSING_EVENT_ID(ParseError.MISSING_FIELD),
  /** No {@code user_id} (absent or {@code null}). */
  MISSING_USER_ID(ParseError.MISSING_FIELD),
  /** No {@code type} (absent or {@code null}). */
  MISSING_TYPE(ParseError.MISSING_FIELD),
  /** No {@code ts} (absent or {@code null}). */
  MISSING_TS(ParseError.MISSING_FIELD),
  /** {@code user_id} is a JSON number. */
  NUMERIC_USER_ID(ParseError.WRONG_TYPE),
  /** {@code event_id} is an empty or blank string. */
  EMPTY_EVENT_ID(ParseError.EMPTY_STRING),
  /** {@code type} is {@code "refund"}. */
  UNKNOWN_TYPE(ParseError.INVALID_TYPE),
  /** A purchase with a negative {@code amount_cents}. */
  NEGATIVE_AMOUNT(ParseError.INVALID_AMOUNT),
  /** A purchase with a fractional {@code amount_cents} (e.g. {@code 12.5}). */
  FRACTIONAL_AMOUNT(ParseError.INVALID_AMOUNT),
  /** A purchase without {@code amount_cents}. */
  PURCHASE_WITHOUT_AMOUNT(ParseError.MISSING_FIELD),
  /** A purchase without {@code item}. */
  PURCHASE_WITHOUT_ITEM(ParseError.MISSING_FIELD),
  /** {@code ts} is a word ({@code "yesterday"}). */
  TS_NOT_A_TIME(ParseError.INVALID_TIMESTAMP),
  /** {@code ts} is a local date-time without a zone ({@code "2026-11-25T10:00:00"}). */
  TS_WITHOUT_ZONE(ParseError.INVALID_TIMESTAMP);

  private final ParseError expectedError;

  MalformedKind(ParseError expectedError) {
    this.expectedError = expectedError;
  }

  /** The error the parser reports for a record of this kind. */
  public ParseError expectedError() {
    return expectedError;
  }
}
