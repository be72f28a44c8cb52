package dev.kappabeam.serve;

/** A request the API refuses: the HTTP status and a message that says what to do instead. */
final class ApiException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  final int status;

  ApiException(int status, String message) {
    super(message);
    this.status = status;
  }

  static ApiException badRequest(String message) {
    return new ApiException(400, message);
  }

  static ApiException notFound(String message) {
    return new ApiException(404, message);
  }
}
