package dev.kappabeam.pipelines.options;

import dev.kappabeam.serving.JdbcPassword;
import dev.kappabeam.serving.StoreConfig;
import java.time.Duration;
import java.time.format.DateTimeParseException;

/**
 * The serving store of {@link ServingStoreOptions}, with the password by reference: the options
 * name a file ({@code --jdbcPasswordFile}) or an environment variable ({@code --jdbcPasswordEnv},
 * default {@code KB_JDBC_PASSWORD}) that each worker reads when it connects, so no runner ever
 * shows or ships the password. Without either the local stack's default password {@code kb} is
 * used. {@code --jdbcPassword} is refused.
 */
public final class StoreConfigs {
  /** The local stack's password, used when the variable is unset and no file is named. */
  public static final String LOCAL_DEFAULT_PASSWORD = "kb";

  private StoreConfigs() {}

  /**
   * The store at {@code --jdbcUrl} as {@code --jdbcUser}, password by reference, riding out outages
   * for {@code --outageGrace}.
   */
  public static StoreConfig of(ServingStoreOptions options) {
    return StoreConfig.of(options.getJdbcUrl(), options.getJdbcUser(), password(options))
        .withOutageGrace(outageGrace(options));
  }

  /**
   * {@code --outageGrace} as a duration.
   *
   * @throws IllegalArgumentException if it is not an ISO-8601 duration of zero or more
   */
  public static Duration outageGrace(ServingStoreOptions options) {
    String text = options.getOutageGrace();
    try {
      Duration grace = Duration.parse(text);
      if (!grace.isNegative()) {
        return grace;
      }
    } catch (DateTimeParseException | NullPointerException e) {
      // Said below.
    }
    throw new IllegalArgumentException(
        "--outageGrace must be an ISO-8601 duration of zero or more, e.g. PT2M or PT30S; got "
            + text);
  }

  /**
   * Where the workers read the password.
   *
   * @throws IllegalArgumentException if {@code --jdbcPassword} is set
   */
  @SuppressWarnings("deprecation")
  public static JdbcPassword password(ServingStoreOptions options) {
    if (options.getJdbcPassword() != null) {
      throw new IllegalArgumentException(
          "--jdbcPassword is refused: runners display pipeline options (Flink web UI, Dataflow job"
              + " spec) and ps shows the command line. Put the password in a file readable on the"
              + " workers and pass --jdbcPasswordFile=/path, or set it in the workers' environment"
              + " and pass --jdbcPasswordEnv=VARIABLE (default KB_JDBC_PASSWORD)");
    }
    String file = options.getJdbcPasswordFile();
    if (file != null && !file.isBlank()) {
      return JdbcPassword.fromFile(file);
    }
    return JdbcPassword.fromEnv(options.getJdbcPasswordEnv(), LOCAL_DEFAULT_PASSWORD);
  }
}
