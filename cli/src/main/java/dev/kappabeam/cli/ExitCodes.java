package dev.kappabeam.cli;

/** Exit codes of kb; scripts rely on them. */
final class ExitCodes {
  /** Success. */
  static final int OK = 0;

  /** verify: the views differ. */
  static final int DIFFERENT = 1;

  /** Bad usage: unknown command or option, malformed value. */
  static final int USAGE = 2;

  /**
   * The environment is not as needed: broker or database unreachable, missing topic, existing
   * version.
   */
  static final int ENVIRONMENT = 3;

  /**
   * A pipeline run failed (also: the serving store stayed unreachable beyond {@code
   * --outage-grace}) or its counts do not add up.
   */
  static final int RUN_FAILED = 4;

  private ExitCodes() {}
}
