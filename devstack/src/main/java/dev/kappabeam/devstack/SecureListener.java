package dev.kappabeam.devstack;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;

/**
 * The local stack's optional SASL_SSL listener (SCRAM-SHA-512 over TLS), to try kappa-beam against
 * a secured cluster on one machine.
 *
 * <p>On first use it generates, with the JDK's {@code keytool}, a CA and a broker certificate for
 * {@code 127.0.0.1}/{@code localhost} signed by it, in {@code <dataDir>/tls/} (the store password
 * in a 0600 file, passed to keytool through its environment, never its argv). On every start the
 * SCRAM user {@value #USER} gets a new random password, created over the plaintext listener ({@code
 * Admin.alterUserScramCredentials}), and {@code <dataDir>/client-secure.properties} (0600) holds
 * what a client needs: {@code security.protocol}, {@code sasl.mechanism}, {@code sasl.jaas.config},
 * the trust store.
 */
final class SecureListener {
  /** The listener's name in the broker configuration. */
  static final String LISTENER = "SECURE";

  static final String MECHANISM = "SCRAM-SHA-512";

  /** The SCRAM user the client file logs in as. */
  static final String USER = "kb";

  /** Name of the ready client file in the data directory. */
  static final String CLIENT_FILE_NAME = "client-secure.properties";

  private static final String STOREPASS_ENV = "KB_TLS_STOREPASS";
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Path dir;
  private final String storePassword;

  private SecureListener(Path dir, String storePassword) {
    this.dir = dir;
    this.storePassword = storePassword;
  }

  /** The client file of a stack on {@code dataDir}. */
  static Path clientFile(Path dataDir) {
    return dataDir.toAbsolutePath().normalize().resolve(CLIENT_FILE_NAME);
  }

  /** Creates the TLS material under {@code <dataDir>/tls/} unless it is already there. */
  static SecureListener prepare(Path dataDir, long deadline) {
    Path dir = dataDir.resolve("tls");
    Path passwordFile = dir.resolve("store.password");
    try {
      Files.createDirectories(dir);
      if (Files.exists(passwordFile)
          && Files.exists(dir.resolve("broker.p12"))
          && Files.exists(dir.resolve("truststore.p12"))) {
        return new SecureListener(dir, Files.readString(passwordFile, StandardCharsets.UTF_8));
      }
      for (String f : List.of("ca.p12", "broker.p12", "truststore.p12", "broker.csr")) {
        Files.deleteIfExists(dir.resolve(f));
      }
      String password = randomSecret();
      SecureListener l = new SecureListener(dir, password);
      l.generate(deadline);
      StackState.writeOwnerOnly(passwordFile, password);
      return l;
    } catch (IOException e) {
      throw new LocalStackException("Could not create the TLS files in " + dir + ": " + e, e);
    }
  }

  private void generate(long deadline) throws IOException {
    String validity = "3650";
    keytool(
        deadline,
        "-genkeypair",
        "-alias",
        "ca",
        "-keyalg",
        "RSA",
        "-keysize",
        "2048",
        "-dname",
        "CN=kappa-beam local CA",
        "-ext",
        "bc:c",
        "-validity",
        validity,
        "-keystore",
        "ca.p12",
        "-storetype",
        "PKCS12");
    keytool(
        deadline, "-exportcert", "-alias", "ca", "-keystore", "ca.p12", "-rfc", "-file", "ca.crt");
    keytool(
        deadline,
        "-genkeypair",
        "-alias",
        "broker",
        "-keyalg",
        "RSA",
        "-keysize",
        "2048",
        "-dname",
        "CN=localhost",
        "-validity",
        validity,
        "-keystore",
        "broker.p12",
        "-storetype",
        "PKCS12");
    keytool(
        deadline, "-certreq", "-alias", "broker", "-keystore", "broker.p12", "-file", "broker.csr");
    keytool(
        deadline,
        "-gencert",
        "-alias",
        "ca",
        "-keystore",
        "ca.p12",
        "-infile",
        "broker.csr",
        "-outfile",
        "broker.crt",
        "-rfc",
        "-validity",
        validity,
        "-ext",
        "SAN=ip:" + Net.HOST + ",dns:localhost");
    keytool(
        deadline,
        "-importcert",
        "-noprompt",
        "-alias",
        "ca",
        "-file",
        "ca.crt",
        "-keystore",
        "broker.p12");
    keytool(
        deadline,
        "-importcert",
        "-alias",
        "broker",
        "-file",
        "broker.crt",
        "-keystore",
        "broker.p12");
    keytool(
        deadline,
        "-importcert",
        "-noprompt",
        "-alias",
        "ca",
        "-file",
        "ca.crt",
        "-keystore",
        "truststore.p12",
        "-storetype",
        "PKCS12");
  }

  private void keytool(long deadline, String... args) throws IOException {
    Path java = Path.of(KafkaBroker.javaExecutable());
    List<String> command = new ArrayList<>();
    command.add(java.resolveSibling("keytool").toString());
    command.addAll(List.of(args));
    // The password reaches keytool through its environment: argv is visible to everyone in ps.
    command.addAll(List.of("-storepass:env", STOREPASS_ENV));
    Path out = dir.resolve("keytool.out");
    ProcessBuilder pb =
        new ProcessBuilder(command)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(out.toFile());
    pb.environment().put(STOREPASS_ENV, storePassword);
    Process p = pb.start();
    p.getOutputStream().close();
    try {
      long wait = Math.max(deadline - System.nanoTime(), TimeUnit.SECONDS.toNanos(10));
      if (!p.waitFor(wait, TimeUnit.NANOSECONDS)) {
        p.destroyForcibly();
        throw new LocalStackException("keytool " + args[0] + " timed out in " + dir);
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new LocalStackException("Interrupted while generating the TLS files", e);
    }
    if (p.exitValue() != 0) {
      throw new LocalStackException(
          "keytool " + args[0] + " failed in " + dir + ": " + LogTail.of(out, 10));
    }
  }

  /**
   * The broker settings of the listener (the key store password: kafka-server.properties is 0600).
   */
  List<String> brokerProperties() {
    String prefix = "listener.name." + LISTENER.toLowerCase(java.util.Locale.ROOT) + ".";
    return List.of(
        prefix + "sasl.enabled.mechanisms=" + MECHANISM,
        prefix
            + MECHANISM.toLowerCase(java.util.Locale.ROOT)
            + ".sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;",
        prefix + "ssl.keystore.type=PKCS12",
        prefix + "ssl.keystore.location=" + path(dir.resolve("broker.p12")),
        prefix + "ssl.keystore.password=" + storePassword);
  }

  /**
   * Gives the SCRAM user a new random password (over the plaintext listener), writes the client
   * file, and waits until the secured listener accepts it.
   */
  Path createUserAndClientFile(
      Path dataDir, String plaintextBootstrap, String secureBootstrap, long deadline) {
    String password = randomSecret();
    try (Admin admin = Admin.create(adminConfig(Map.of(), plaintextBootstrap))) {
      admin
          .alterUserScramCredentials(
              List.of(
                  new UserScramCredentialUpsertion(
                      USER, new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), password)))
          .all()
          .get(Math.max(1, (deadline - System.nanoTime()) / 1_000_000), TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException e) {
      throw new LocalStackException("Could not create the SCRAM user " + USER + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LocalStackException("Interrupted while creating the SCRAM user", e);
    }
    Properties client = clientProperties(password);
    Path file = clientFile(dataDir);
    StringBuilder text = new StringBuilder();
    text.append("# kappa-beam local stack: a client of its SASL_SSL listener ")
        .append(secureBootstrap)
        .append(System.lineSeparator())
        .append("# Rewritten (new password) on every start; mode 0600.")
        .append(System.lineSeparator());
    for (String key : new java.util.TreeSet<>(client.stringPropertyNames())) {
      text.append(key).append('=').append(client.getProperty(key)).append(System.lineSeparator());
    }
    try {
      StackState.writeOwnerOnly(file, text.toString());
    } catch (IOException e) {
      throw new LocalStackException("Could not write " + file, e);
    }
    awaitAccepted(client, secureBootstrap, deadline);
    return file;
  }

  private Properties clientProperties(String password) {
    Properties p = new Properties();
    p.setProperty("security.protocol", "SASL_SSL");
    p.setProperty("sasl.mechanism", MECHANISM);
    p.setProperty(
        "sasl.jaas.config",
        "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
            + USER
            + "\" password=\""
            + password
            + "\";");
    p.setProperty("ssl.truststore.type", "PKCS12");
    p.setProperty("ssl.truststore.location", path(dir.resolve("truststore.p12")));
    p.setProperty("ssl.truststore.password", storePassword);
    return p;
  }

  /** The SCRAM credential reaches the broker through the metadata log: wait until it is applied. */
  private static void awaitAccepted(Properties client, String secureBootstrap, long deadline) {
    Map<String, Object> settings = new java.util.HashMap<>();
    client.forEach((k, v) -> settings.put((String) k, v));
    Exception last = null;
    while (System.nanoTime() < deadline) {
      try (Admin admin = Admin.create(adminConfig(settings, secureBootstrap))) {
        if (!admin
            .describeCluster(new DescribeClusterOptions().timeoutMs(3_000))
            .nodes()
            .get(4, TimeUnit.SECONDS)
            .isEmpty()) {
          return;
        }
      } catch (ExecutionException | TimeoutException e) {
        last = e;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new LocalStackException("Interrupted while waiting for the SASL_SSL listener", e);
      }
      try {
        Thread.sleep(200); // a retry interval, not a wait for a result
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new LocalStackException("Interrupted while waiting for the SASL_SSL listener", e);
      }
    }
    throw new LocalStackException(
        "The SASL_SSL listener "
            + secureBootstrap
            + " did not accept the SCRAM user in time"
            + (last == null ? "" : ": " + last.getMessage()));
  }

  private static Map<String, Object> adminConfig(Map<String, Object> settings, String bootstrap) {
    Map<String, Object> c = new java.util.HashMap<>(settings);
    c.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(AdminClientConfig.CLIENT_ID_CONFIG, "kb-devstack-secure");
    c.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 3_000);
    c.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5_000);
    c.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 200L);
    return c;
  }

  private static String randomSecret() {
    byte[] b = new byte[18];
    RANDOM.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  private static String path(Path p) {
    return p.toAbsolutePath().toString().replace('\\', '/');
  }
}
