package dev.kappabeam.serving;

/**
 * A registry operation is not allowed in the registry's current state (e.g. dropping a live
 * version, rolling back with no previous version). The message says what to do instead.
 */
public class RegistryException extends ViewStoreException {
  public RegistryException(String message) {
    super(message);
  }
}
