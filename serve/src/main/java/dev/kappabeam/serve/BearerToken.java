package dev.kappabeam.serve;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The secret that {@code kb serve --token-file} requires in {@code Authorization: Bearer ...}.
 *
 * <p>Read from a file, never from argv (which {@code ps} shows); only its SHA-256 digest is kept,
 * so no field, {@link #toString()} or log line holds the token itself. {@link #accepts} compares
 * digests with {@link MessageDigest#isEqual}, whose time does not depend on where they differ.
 *
 * <pre>{@code
 * BearerToken token = BearerToken.fromFile(Path.of("/etc/kb/serve.token"));
 * boolean ok = token.accepts(request.getHeaders().get("Authorization"));
 * }</pre>
 */
final class BearerToken {
  /** Shorter secrets can be guessed over the network. */
  static final int MIN_LENGTH = 16;

  private static final String SCHEME = "Bearer ";

  private final byte[] digest;

  private BearerToken(byte[] digest) {
    this.digest = digest;
  }

  /**
   * The token in {@code file}: its content without surrounding whitespace (a trailing newline from
   * {@code echo} or an editor is fine).
   *
   * @throws IllegalArgumentException if the file cannot be read or holds no usable token
   */
  static BearerToken fromFile(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8).strip();
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException(
          "cannot read --token-file " + file + ": " + e.getMessage(), e);
    }
    String make = "; put a random one there, e.g. openssl rand -hex 32 > " + file;
    if (text.length() < MIN_LENGTH) {
      throw new IllegalArgumentException(
          "--token-file "
              + file
              + " holds "
              + (text.isEmpty() ? "no token" : "a token shorter than " + MIN_LENGTH + " characters")
              + make);
    }
    if (!text.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
      throw new IllegalArgumentException(
          "--token-file "
              + file
              + " must hold one token of printable ASCII characters without spaces"
              + make);
    }
    return new BearerToken(sha256(text));
  }

  /** True if {@code authorization} (the header's value, or null) carries this token. */
  boolean accepts(String authorization) {
    if (authorization == null
        || !authorization.regionMatches(true, 0, SCHEME, 0, SCHEME.length())) {
      return false;
    }
    return MessageDigest.isEqual(digest, sha256(authorization.substring(SCHEME.length()).strip()));
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  @Override
  public String toString() {
    return "BearerToken[redacted]";
  }
}
