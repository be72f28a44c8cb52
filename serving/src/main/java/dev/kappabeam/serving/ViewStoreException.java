package dev.kappabeam.serving;

/**
 * A serving-store operation failed: the table is missing, the database refused the statement, or a
 * transaction still conflicted after {@link StoreConfig#maxAttempts()} attempts. The message names
 * the table and says what to do; the cause, if any, is the database's {@link
 * java.sql.SQLException}.
 */
public class ViewStoreException extends RuntimeException {
  public ViewStoreException(String message) {
    super(message);
  }

  public ViewStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
