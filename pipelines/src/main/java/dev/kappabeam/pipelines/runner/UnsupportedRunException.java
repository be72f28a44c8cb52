package dev.kappabeam.pipelines.runner;

/**
 * A run the selected runner cannot do correctly (a mode or feature it does not support). The
 * message says what, why, and what to use instead.
 */
public final class UnsupportedRunException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public UnsupportedRunException(String message) {
    super(message);
  }
}
