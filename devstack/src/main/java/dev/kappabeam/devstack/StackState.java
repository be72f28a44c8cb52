package dev.kappabeam.devstack;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;

/**
 * What a running background stack publishes in {@code <dataDir>/stack.properties}: its process,
 * ports and endpoints. The file and the database password file it names ({@value
 * #PASSWORD_FILE_NAME}) are created with mode 0600.
 *
 * <p>{@link LocalStackMain} writes the file once the stack is ready and deletes it on shutdown; a
 * file whose {@code pid} is no longer alive is stale and {@link LocalStackControl} removes it.
 *
 * @param pid process id of the {@link LocalStackMain} JVM (it owns H2)
 * @param brokerPid process id of the Kafka broker JVM
 * @param dataDir absolute data directory
 * @param bootstrapServers Kafka {@code bootstrap.servers}
 * @param jdbcUrl JDBC URL of the shared database
 * @param jdbcUser database user
 * @param jdbcPassword database password (a local development secret)
 * @param kafkaPort Kafka client port
 * @param controllerPort KRaft controller port
 * @param h2Port H2 TCP port
 * @param clusterId Kafka cluster id
 * @param startedAt when the stack became ready
 * @param h2Version the H2 release serving the database ("unknown" for a stack started by an older
 *     kappa-beam)
 * @param secureKafkaPort the SASL_SSL listener's port, or -1 when the stack has none
 */
public record StackState(
    long pid,
    long brokerPid,
    Path dataDir,
    String bootstrapServers,
    String jdbcUrl,
    String jdbcUser,
    String jdbcPassword,
    int kafkaPort,
    int controllerPort,
    int h2Port,
    String clusterId,
    Instant startedAt,
    String h2Version,
    int secureKafkaPort) {

  /** Name of the state file inside the data directory. */
  public static final String FILE_NAME = "stack.properties";

  /** Name of the file holding the database password (mode 0600), named in the state file. */
  public static final String PASSWORD_FILE_NAME = "jdbc.password";

  private static final Set<PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rw-------");

  /** The password file of {@code dataDir}, handed to jobs as {@code --jdbcPasswordFile}. */
  public static Path passwordFile(Path dataDir) {
    return dataDir.toAbsolutePath().normalize().resolve(PASSWORD_FILE_NAME);
  }

  /** The state file of {@code dataDir}. */
  public static Path file(Path dataDir) {
    return dataDir.toAbsolutePath().normalize().resolve(FILE_NAME);
  }

  /** Describes {@code stack}, run by the process {@code pid}, ready at {@code startedAt}. */
  static StackState of(LocalStack stack, long pid, Instant startedAt) {
    return new StackState(
        pid,
        stack.brokerPid(),
        stack.dataDir(),
        stack.bootstrapServers(),
        stack.jdbcUrl(),
        stack.jdbcUser(),
        stack.jdbcPassword(),
        stack.kafkaPort(),
        stack.controllerPort(),
        stack.h2Port(),
        stack.clusterId(),
        startedAt,
        LocalStack.H2_VERSION,
        stack.secureKafkaPort());
  }

  /**
   * Reads the state file of {@code dataDir}, or returns empty if there is none.
   *
   * @throws LocalStackException if the file exists but cannot be parsed
   */
  public static Optional<StackState> read(Path dataDir) {
    Path file = file(dataDir);
    Properties p = new Properties();
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(reader);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw unreadable(file, e);
    }
    try {
      return Optional.of(
          new StackState(
              Long.parseLong(required(p, "pid")),
              Long.parseLong(required(p, "brokerPid")),
              Path.of(required(p, "dataDir")),
              required(p, "bootstrapServers"),
              required(p, "jdbcUrl"),
              required(p, "jdbcUser"),
              password(p),
              Integer.parseInt(required(p, "kafkaPort")),
              Integer.parseInt(required(p, "controllerPort")),
              Integer.parseInt(required(p, "h2Port")),
              required(p, "clusterId"),
              Instant.parse(required(p, "startedAt")),
              p.getProperty("h2Version", "unknown"),
              Integer.parseInt(p.getProperty("secureKafkaPort", "-1"))));
    } catch (RuntimeException e) {
      throw unreadable(file, e);
    }
  }

  /** Writes the state file atomically (readers never see half a file). */
  void write() {
    Properties p = new Properties();
    p.setProperty("pid", Long.toString(pid));
    p.setProperty("brokerPid", Long.toString(brokerPid));
    p.setProperty("dataDir", dataDir.toString());
    p.setProperty("bootstrapServers", bootstrapServers);
    p.setProperty("jdbcUrl", jdbcUrl);
    p.setProperty("jdbcUser", jdbcUser);
    // The password itself goes to its own 0600 file; the state file only names it.
    Path passwordFile = passwordFile(dataDir);
    p.setProperty("jdbcPasswordFile", passwordFile.toString());
    p.setProperty("kafkaPort", Integer.toString(kafkaPort));
    p.setProperty("controllerPort", Integer.toString(controllerPort));
    p.setProperty("h2Port", Integer.toString(h2Port));
    p.setProperty("clusterId", clusterId);
    p.setProperty("startedAt", startedAt.toString());
    p.setProperty("h2Version", h2Version);
    if (secureKafkaPort >= 0) {
      p.setProperty("secureKafkaPort", Integer.toString(secureKafkaPort));
      p.setProperty("secureBootstrapServers", secureBootstrapServers().orElseThrow());
      // The client file holds the SCRAM password; the state file only names it.
      p.setProperty("clientSecureFile", clientSecureFile().orElseThrow().toString());
    }
    Path file = file(dataDir);
    Path tmp = file.resolveSibling(FILE_NAME + ".tmp");
    try {
      writeOwnerOnly(passwordFile, jdbcPassword);
      Files.deleteIfExists(tmp);
      createOwnerOnly(tmp);
      try (Writer writer = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
        p.store(writer, "kappa-beam local stack; deleted when the stack stops");
      }
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new LocalStackException("Could not write the state file " + file, e);
    }
  }

  /** Writes {@code content} to {@code file}, readable and writable by its owner only. */
  static void writeOwnerOnly(Path file, String content) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    createOwnerOnly(tmp);
    Files.writeString(tmp, content, StandardCharsets.UTF_8);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
  }

  private static void createOwnerOnly(Path file) throws IOException {
    try {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
    } catch (UnsupportedOperationException e) {
      Files.createFile(file); // not a POSIX file system: the platform's defaults apply
    }
  }

  /** The password from the file the state names; older stacks wrote it into the state file. */
  private static String password(Properties p) {
    String file = p.getProperty("jdbcPasswordFile");
    if (file != null) {
      try {
        return Files.readString(Path.of(file), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new IllegalArgumentException("cannot read the password file " + file, e);
      }
    }
    return required(p, "jdbcPassword");
  }

  /** The SASL_SSL listener's {@code bootstrap.servers}, if the stack has one. */
  public Optional<String> secureBootstrapServers() {
    if (secureKafkaPort < 0) {
      return Optional.empty();
    }
    String host = bootstrapServers.substring(0, bootstrapServers.lastIndexOf(':'));
    return Optional.of(host + ":" + secureKafkaPort);
  }

  /** The ready client file of the SASL_SSL listener (0600), if the stack has one. */
  public Optional<Path> clientSecureFile() {
    return secureKafkaPort < 0 ? Optional.empty() : Optional.of(SecureListener.clientFile(dataDir));
  }

  /** The H2 database file, {@code <dataDir>/h2/kb.mv.db}. */
  public Path databaseFile() {
    return LocalStack.databaseFile(dataDir);
  }

  /** Deletes the state file of {@code dataDir} if it still names {@code ownerPid}. */
  static void deleteIfOwnedBy(Path dataDir, long ownerPid) {
    try {
      Optional<StackState> state = read(dataDir);
      if (state.isPresent() && state.get().pid() == ownerPid) {
        Files.deleteIfExists(file(dataDir));
      }
    } catch (IOException | LocalStackException e) {
      // Best effort on shutdown: a leftover file is detected as stale by its dead pid.
    }
  }

  /** Deletes the state file of {@code dataDir} whatever it says. */
  static void delete(Path dataDir) {
    try {
      Files.deleteIfExists(file(dataDir));
    } catch (IOException e) {
      throw new LocalStackException(
          "Could not delete the stale state file " + file(dataDir) + "; delete it by hand.", e);
    }
  }

  @Override
  public String toString() {
    // The password stays out of logs and messages.
    return "StackState{pid="
        + pid
        + ", brokerPid="
        + brokerPid
        + ", dataDir="
        + dataDir
        + ", bootstrapServers="
        + bootstrapServers
        + ", jdbcUrl="
        + jdbcUrl
        + ", startedAt="
        + startedAt
        + "}";
  }

  private static String required(Properties p, String key) {
    String value = p.getProperty(key);
    if (value == null) {
      throw new IllegalArgumentException("missing key " + key);
    }
    return value;
  }

  private static LocalStackException unreadable(Path file, Exception e) {
    return new LocalStackException(
        "The state file "
            + file
            + " is unreadable ("
            + e.getMessage()
            + "). If no local stack is running on this data directory, delete the file.",
        e);
  }
}
