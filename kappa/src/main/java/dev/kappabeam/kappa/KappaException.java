package dev.kappabeam.kappa;

/**
 * A Kappa lifecycle step that cannot go on, with what kind of failure it is so that a caller can
 * tell the user (and a script its exit code) whether to fix the request or the job.
 */
public final class KappaException extends RuntimeException {
  /** What went wrong. */
  public enum Kind {
    /** The registry's state forbids the request (a version taken, a job still alive). */
    CONFLICT,
    /** The version's job failed or ended before it could serve. */
    JOB_FAILED
  }

  private final Kind kind;

  public KappaException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public KappaException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
