package dev.kappabeam.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import picocli.CommandLine.Option;

/**
 * Where the broker and the serving store are. Each setting comes from its flag, else its
 * environment variable, else the running local stack ({@code <data-dir>/stack.properties}), else
 * the local stack's default port.
 */
final class Connections {
  @Option(
      names = "--bootstrap-servers",
      description = "Kafka bootstrap servers (env KB_BOOTSTRAP_SERVERS; default: the local stack).")
  String bootstrapServers;

  @Option(
      names = "--jdbc-url",
      description = "Serving store JDBC URL (env KB_JDBC_URL; default: the local stack's H2).")
  String jdbcUrl;

  @Option(names = "--jdbc-user", description = "JDBC user (env KB_JDBC_USER; default kb).")
  String jdbcUser;

  @Option(
      names = "--jdbc-password",
      description = "JDBC password (env KB_JDBC_PASSWORD; default kb).")
  String jdbcPassword;

  @Option(
      names = "--data-dir",
      description = "Local stack data folder (env KB_DATA_DIR; default .kb under the project).")
  Path dataDir;

  @Option(names = "--stacktrace", description = "Print stack traces of errors.")
  boolean stacktrace;

  private Properties stack;

  Path dataDir() {
    if (dataDir != null) {
      return dataDir;
    }
    String env = System.getenv("KB_DATA_DIR");
    return Path.of(env != null && !env.isBlank() ? env : ".kb").toAbsolutePath();
  }

  String bootstrapServers() {
    return pick(bootstrapServers, "KB_BOOTSTRAP_SERVERS", "bootstrapServers", "127.0.0.1:19092");
  }

  String jdbcUrl() {
    return pick(jdbcUrl, "KB_JDBC_URL", "jdbcUrl", null);
  }

  String jdbcUser() {
    return pick(jdbcUser, "KB_JDBC_USER", "jdbcUser", "kb");
  }

  String jdbcPassword() {
    return pick(jdbcPassword, "KB_JDBC_PASSWORD", "jdbcPassword", "kb");
  }

  String requireJdbcUrl() {
    String url = jdbcUrl();
    if (url == null) {
      throw new CliException(
          ExitCodes.ENVIRONMENT,
          "no serving store: start the local stack with 'kb local up' or pass --jdbc-url");
    }
    return url;
  }

  private String pick(String flag, String env, String stackKey, String fallback) {
    if (flag != null && !flag.isBlank()) {
      return flag;
    }
    String e = System.getenv(env);
    if (e != null && !e.isBlank()) {
      return e;
    }
    String s = stackProperties().getProperty(stackKey);
    return s != null && !s.isBlank() ? s : fallback;
  }

  private Properties stackProperties() {
    if (stack == null) {
      stack = new Properties();
      Path file = dataDir().resolve("stack.properties");
      if (Files.isRegularFile(file)) {
        try (InputStream in = Files.newInputStream(file)) {
          stack.load(in);
        } catch (IOException e) {
          // An unreadable state file is the same as none: fall back to defaults.
        }
      }
    }
    return stack;
  }
}
