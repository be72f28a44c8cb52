package dev.kappabeam.serving;

/**
 * The serving store stayed unreachable for longer than {@link StoreConfig#outageGrace()}: the
 * operation is abandoned and the run it belongs to fails (kb exits 4 and records the version's job
 * as {@code failed}). A re-run ({@code kb run --resume}, {@code kb reprocess}) recovers exactly.
 */
public class StoreOutageException extends ViewStoreException {
  public StoreOutageException(String message, Throwable cause) {
    super(message, cause);
  }
}
