package dev.kappabeam.cli;

import dev.kappabeam.pipelines.kafka.KafkaClientConfig;
import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.pipelines.options.StoreConfigs;
import dev.kappabeam.serving.JdbcPassword;
import dev.kappabeam.serving.StoreConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * Where the broker and the serving store are. Each setting comes from its flag, else its
 * environment variable, else the running local stack ({@code <data-dir>/stack.properties}), else
 * the local stack's default port. The password is never a flag: see {@link #jdbcPasswordSource()}.
 */
final class Connections {
  /** The environment variable holding the JDBC password. */
  static final String PASSWORD_ENV = "KB_JDBC_PASSWORD";

  /** The environment variable naming the Kafka client properties file. */
  static final String KAFKA_CONFIG_ENV = "KB_KAFKA_CONFIG";

  /** Refuses a password on the command line, naming the ways that keep it out of ps. */
  static final class RefusedPassword implements ITypeConverter<String> {
    @Override
    public String convert(String value) {
      throw new TypeConversionException(
          "refused: a password on the command line is visible to every user in ps; set "
              + PASSWORD_ENV
              + " or pass --jdbc-password-file FILE");
    }
  }

  @Option(
      names = "--bootstrap-servers",
      description = "Kafka bootstrap servers (env KB_BOOTSTRAP_SERVERS; default: the local stack).")
  String bootstrapServers;

  @Option(
      names = "--kafka-config",
      paramLabel = "FILE",
      description =
          "Kafka client properties file (security.protocol, sasl.*, ssl.*, ...) applied to every"
              + " Kafka client of kb and of its jobs (env KB_KAFKA_CONFIG). Jobs get the path, so"
              + " it must exist there on every worker.")
  Path kafkaConfig;

  @Option(
      names = "--jdbc-url",
      description = "Serving store JDBC URL (env KB_JDBC_URL; default: the local stack's H2).")
  String jdbcUrl;

  @Option(names = "--jdbc-user", description = "JDBC user (env KB_JDBC_USER; default kb).")
  String jdbcUser;

  /** Refused: set so the refusal can say what to use instead (see {@link RefusedPassword}). */
  @Option(
      names = "--jdbc-password",
      hidden = true,
      paramLabel = "PASSWORD",
      converter = RefusedPassword.class)
  String jdbcPassword;

  @Option(
      names = "--jdbc-password-file",
      paramLabel = "FILE",
      description =
          "File holding the JDBC password (env KB_JDBC_PASSWORD holds the password itself;"
              + " default: the local stack's, else kb). A password flag is refused: ps shows it.")
  Path jdbcPasswordFile;

  @Option(
      names = "--data-dir",
      description = "Local stack data folder (env KB_DATA_DIR; default .kb under the project).")
  Path dataDir;

  @Option(names = "--stacktrace", description = "Print stack traces of errors.")
  boolean stacktrace;

  private Properties stack;
  private KafkaClientConfig kafka;

  Path dataDir() {
    if (dataDir != null) {
      return dataDir;
    }
    String env = System.getenv("KB_DATA_DIR");
    return Path.of(env != null && !env.isBlank() ? env : ".kb").toAbsolutePath();
  }

  /**
   * The flag, else {@code KB_BOOTSTRAP_SERVERS}, else the running local stack, else {@code
   * bootstrap.servers} of the {@code --kafka-config} file, else the local stack's default port.
   */
  String bootstrapServers() {
    String picked = pick(bootstrapServers, "KB_BOOTSTRAP_SERVERS", "bootstrapServers", null);
    if (picked != null) {
      return picked;
    }
    String fromFile =
        kafkaConfigFile()
            .map(f -> readKafkaConfig(f).get(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG))
            .orElse(null);
    return fromFile != null && !fromFile.isBlank() ? fromFile : "127.0.0.1:19092";
  }

  /** The Kafka client properties file: {@code --kafka-config}, else {@code KB_KAFKA_CONFIG}. */
  Optional<Path> kafkaConfigFile() {
    if (kafkaConfig != null) {
      return Optional.of(kafkaConfig.toAbsolutePath());
    }
    String env = System.getenv(KAFKA_CONFIG_ENV);
    return env == null || env.isBlank()
        ? Optional.empty()
        : Optional.of(Path.of(env).toAbsolutePath());
  }

  /**
   * Every Kafka client kb creates: the bootstrap servers and the properties file, read and checked
   * now (exit 2 with one line if it is unreadable or invalid).
   */
  KafkaClientConfig kafka() {
    if (kafka == null) {
      try {
        kafka =
            KafkaClientConfig.of(
                    bootstrapServers(), kafkaConfigFile().map(Path::toString).orElse(null))
                .validate();
      } catch (IllegalArgumentException e) {
        throw new CliException(ExitCodes.USAGE, "--kafka-config: " + e.getMessage());
      }
    }
    return kafka;
  }

  /** The properties file's settings for a client built elsewhere ({@code kb serve}'s lag). */
  Map<String, ?> kafkaSettings() {
    return kafka().clientConfig(Map.of());
  }

  /**
   * Sets the connections on a job's options: the broker, the Kafka properties file (its path, read
   * by each worker: never its contents), the serving store, and where the workers read its password
   * (the file, or the variable: the workers of a local run share this process's environment; on a
   * cluster, set it there or use a file). Never the password.
   */
  void applyTo(KappaBeamOptions o) {
    kafka();
    o.setBootstrapServers(bootstrapServers());
    kafkaConfigFile().ifPresent(f -> o.setKafkaConfigFile(f.toString()));
    o.setJdbcUrl(requireJdbcUrl());
    o.setJdbcUser(jdbcUser());
    JdbcPassword source = jdbcPasswordSource();
    if (source.file().isPresent()) {
      o.setJdbcPasswordFile(source.file().get().toString());
    } else {
      o.setJdbcPasswordEnv(PASSWORD_ENV);
    }
  }

  private static Map<String, String> readKafkaConfig(Path file) {
    try {
      return KafkaClientConfig.read(file);
    } catch (IllegalArgumentException e) {
      throw new CliException(ExitCodes.USAGE, "--kafka-config: " + e.getMessage());
    }
  }

  String jdbcUrl() {
    return pick(jdbcUrl, "KB_JDBC_URL", "jdbcUrl", null);
  }

  String jdbcUser() {
    return pick(jdbcUser, "KB_JDBC_USER", "jdbcUser", "kb");
  }

  /**
   * Where the JDBC password is read: {@code --jdbc-password-file}, else {@code KB_JDBC_PASSWORD},
   * else the local stack's 0600 password file, else the local default {@code kb}.
   */
  JdbcPassword jdbcPasswordSource() {
    if (jdbcPasswordFile != null) {
      return JdbcPassword.fromFile(jdbcPasswordFile.toAbsolutePath().toString());
    }
    String env = System.getenv(PASSWORD_ENV);
    if (env != null && !env.isEmpty()) {
      return JdbcPassword.fromEnv(PASSWORD_ENV, null);
    }
    String stackFile = stackProperties().getProperty("jdbcPasswordFile");
    if (stackFile != null && Files.isReadable(Path.of(stackFile))) {
      return JdbcPassword.fromFile(stackFile);
    }
    return JdbcPassword.of(StoreConfigs.LOCAL_DEFAULT_PASSWORD);
  }

  /** The JDBC password, read now. */
  String jdbcPassword() {
    try {
      return jdbcPasswordSource().resolve();
    } catch (IllegalStateException e) {
      throw new CliException(ExitCodes.ENVIRONMENT, e.getMessage());
    }
  }

  /** The serving store, password by reference. */
  StoreConfig store() {
    return StoreConfig.of(requireJdbcUrl(), jdbcUser(), jdbcPasswordSource());
  }

  /**
   * The flags that hand these connections to another kb command: the password travels as its file
   * or in the inherited environment, never as a flag.
   */
  List<String> forwardArgs() {
    List<String> args = new ArrayList<>();
    args.add("--bootstrap-servers=" + bootstrapServers());
    kafkaConfigFile().ifPresent(f -> args.add("--kafka-config=" + f));
    args.add("--jdbc-url=" + requireJdbcUrl());
    args.add("--jdbc-user=" + jdbcUser());
    if (jdbcPasswordFile != null) {
      args.add("--jdbc-password-file=" + jdbcPasswordFile.toAbsolutePath());
    }
    args.add("--data-dir=" + dataDir());
    return args;
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
