package dev.kappabeam.serving;

import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Where a JDBC password comes from: a file or an environment variable, read where the connection is
 * opened (on a Beam worker, that is the worker), or a value given in code.
 *
 * <p>A pipeline carries the reference, never the password, so the password stays out of pipeline
 * options, exported job specs and serialized {@code DoFn}s. {@link #toString()} names the source,
 * never the value. A file's content is used without its trailing line break.
 *
 * <pre>{@code
 * JdbcPassword.fromFile("/run/secrets/kb-db")        // a mounted secret
 * JdbcPassword.fromEnv("KB_JDBC_PASSWORD", "kb")      // the variable, else the local default kb
 * }</pre>
 */
public final class JdbcPassword implements Serializable {
  private enum Source {
    VALUE,
    ENV,
    FILE
  }

  private final Source source;
  private final String reference;
  private final String fallback;

  private JdbcPassword(Source source, String reference, String fallback) {
    this.source = source;
    this.reference = reference;
    this.fallback = fallback;
  }

  /**
   * A password given in code (tests, an in-process store). Not for pipelines that leave the JVM: it
   * would be serialized with them.
   */
  public static JdbcPassword of(String value) {
    return new JdbcPassword(Source.VALUE, Objects.requireNonNull(value, "password"), null);
  }

  /** The content of {@code path}, read on every connect. */
  public static JdbcPassword fromFile(String path) {
    Objects.requireNonNull(path, "password file");
    if (path.isBlank()) {
      throw new IllegalArgumentException("the password file path is empty");
    }
    return new JdbcPassword(Source.FILE, path, null);
  }

  /**
   * The value of the environment variable {@code name}, or {@code fallback} when it is unset or
   * empty ({@code null}: the variable must be set).
   */
  public static JdbcPassword fromEnv(String name, String fallback) {
    Objects.requireNonNull(name, "environment variable name");
    if (name.isBlank()) {
      throw new IllegalArgumentException("the password environment variable name is empty");
    }
    return new JdbcPassword(Source.ENV, name, fallback);
  }

  /** The environment variable named, if this password is read from one. */
  public java.util.Optional<String> envName() {
    return source == Source.ENV ? java.util.Optional.of(reference) : java.util.Optional.empty();
  }

  /** The file named, if this password is read from one. */
  public java.util.Optional<String> file() {
    return source == Source.FILE ? java.util.Optional.of(reference) : java.util.Optional.empty();
  }

  /**
   * The password, read now.
   *
   * @throws IllegalStateException naming the file or variable (never a value) when it cannot be
   *     read
   */
  public String resolve() {
    switch (source) {
      case VALUE:
        return reference;
      case ENV:
        String v = System.getenv(reference);
        if (v != null && !v.isEmpty()) {
          return v;
        }
        if (fallback != null) {
          return fallback;
        }
        throw new IllegalStateException(
            "the JDBC password variable " + reference + " is not set in this process");
      case FILE:
        try {
          return stripLineBreak(Files.readString(Path.of(reference), StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
          throw new IllegalStateException(
              "cannot read the JDBC password file "
                  + reference
                  + ": "
                  + e.getClass().getSimpleName(),
              e);
        }
      default:
        throw new AssertionError(source);
    }
  }

  private static String stripLineBreak(String s) {
    if (s.endsWith("\r\n")) {
      return s.substring(0, s.length() - 2);
    }
    return s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof JdbcPassword that
        && source == that.source
        && reference.equals(that.reference)
        && Objects.equals(fallback, that.fallback);
  }

  @Override
  public int hashCode() {
    return Objects.hash(source, reference, fallback);
  }

  @Override
  public String toString() {
    switch (source) {
      case VALUE:
        return reference.isEmpty() ? "none" : JdbcUrls.MASK;
      case ENV:
        return "env " + reference + (fallback == null ? "" : " (else the default)");
      default:
        return "file " + reference;
    }
  }
}
