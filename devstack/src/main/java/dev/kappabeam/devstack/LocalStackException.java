package dev.kappabeam.devstack;

/**
 * Signals that the local stack could not be started, stopped or inspected.
 *
 * <p>The message says what went wrong and what to do about it; when the broker failed, it ends with
 * the last lines of the broker's log.
 */
public class LocalStackException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Creates an exception with a message that says what to do. */
  public LocalStackException(String message) {
    super(message);
  }

  /** Creates an exception with a message that says what to do, and its cause. */
  public LocalStackException(String message, Throwable cause) {
    super(message, cause);
  }
}
