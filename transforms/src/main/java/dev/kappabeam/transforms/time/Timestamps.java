package dev.kappabeam.transforms.time;

import org.joda.time.Duration;

/** Timestamp constants shared by the transforms. */
public final class Timestamps {
  /**
   * An allowed timestamp skew ({@code DoFn#getAllowedTimestampSkew}) that lets a DoFn output any
   * timestamp. Not {@code Long.MAX_VALUE} milliseconds: Beam subtracts the skew from the element's
   * timestamp on every output with a timestamp, and where that overflows it throws and catches an
   * {@code ArithmeticException}, one exception (stack trace included) per output element. This
   * bound cannot overflow against any Beam timestamp and still allows any.
   */
  public static final Duration ANY_SKEW = Duration.millis(Long.MAX_VALUE / 4);

  private Timestamps() {}
}
