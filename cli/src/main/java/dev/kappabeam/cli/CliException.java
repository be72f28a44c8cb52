package dev.kappabeam.cli;

/** An error the user can fix; printed as one line with the exit code it carries. */
final class CliException extends RuntimeException {
  final int exitCode;

  CliException(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  CliException(int exitCode, String message, Throwable cause) {
    super(message, cause);
    this.exitCode = exitCode;
  }
}
