package dev.kappabeam.devstack;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.h2.engine.SysProperties;
import org.h2.tools.Server;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local stack's H2 database: opened once by an embedded connection that the stack holds for its
 * whole life, and served to other processes by an H2 TCP server on loopback.
 *
 * <p>Why the held connection: with H2's default {@code DB_CLOSE_DELAY=0} the database closes when
 * its last session ends, so every short client (each {@code kb} command) opened and closed the
 * store, and each close compacted it; H2 2.3.x could drop committed chunks there (h2database
 * #4247). Holding it open makes the close a single deliberate step in {@link #close()}. H2's own
 * JVM shutdown hook ({@code DB_CLOSE_ON_EXIT}) is turned off so it cannot close the database under
 * the TCP server while clients are still served.
 */
final class ServingDatabase implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ServingDatabase.class);

  private final Path baseDir;
  private final Connection keeper;
  private final int port;
  private Server server;
  private boolean closed;

  private ServingDatabase(Path baseDir, Connection keeper, Server server) {
    this.baseDir = baseDir;
    this.keeper = keeper;
    this.server = server;
    this.port = server.getPort();
  }

  /**
   * Opens (or creates) the database {@value LocalStack#DATABASE} under {@code baseDir}, then serves
   * it on {@code port} (0 for a free one).
   */
  static ServingDatabase open(Path baseDir, int port) {
    Connection keeper = openKeeper(baseDir);
    try {
      ServingDatabase database = new ServingDatabase(baseDir, keeper, startServer(baseDir, port));
      database.checkServedIsHeld();
      return database;
    } catch (RuntimeException e) {
      closeQuietly(keeper);
      throw e;
    }
  }

  /** The TCP port clients connect to. */
  int port() {
    return port;
  }

  /**
   * Stops the TCP server while the database stays open in this process: open client connections
   * break and new ones are refused, as when a database server goes away. {@link #resumeServing}
   * serves it again on the same port. Idempotent.
   */
  synchronized void suspendServing() {
    if (server != null) {
      server.stop();
      server = null;
    }
  }

  /** Serves the database on its port again after {@link #suspendServing}. Idempotent. */
  synchronized void resumeServing() {
    if (closed) {
      throw new IllegalStateException("the serving database is closed");
    }
    if (server == null) {
      server = startServer(baseDir, port);
    }
  }

  /**
   * Refuses new clients, disconnects the open sessions (their open transactions roll back), then
   * closes the database with {@code SHUTDOWN}. Idempotent.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (server != null) {
      server.stop();
    }
    try (Statement statement = keeper.createStatement()) {
      statement.execute("SHUTDOWN");
    } catch (SQLException e) {
      LOG.warn(
          "H2 SHUTDOWN failed ({}); the next start recovers the database to its last commit.",
          e.getMessage());
    } finally {
      closeQuietly(keeper);
    }
  }

  private static Connection openKeeper(Path baseDir) {
    String url =
        "jdbc:h2:file:"
            + baseDir.resolve(LocalStack.DATABASE)
            + ";DB_CLOSE_ON_EXIT=FALSE;MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE"
            + ";DEFAULT_NULL_ORDERING=HIGH";
    try {
      Files.createDirectories(baseDir);
      Connection connection =
          DriverManager.getConnection(url, LocalStack.JDBC_USER, LocalStack.JDBC_PASSWORD);
      try (Statement statement = connection.createStatement()) {
        // A commit returns after its chunk is written to the file (not fsynced): a killed stack
        // keeps every commit, where the default 500 ms delay could lose the last ones.
        statement.execute("SET WRITE_DELAY 0");
      }
      return connection;
    } catch (IOException | SQLException e) {
      throw new LocalStackException(
          "Could not open the H2 database "
              + baseDir.resolve(LocalStack.DATABASE)
              + " as user "
              + LocalStack.JDBC_USER
              + ": "
              + e.getMessage()
              + ". If another process holds it, stop that process; if it was created with other"
              + " credentials, delete its files under the h2/ folder of the data directory.",
          e);
    }
  }

  private static Server startServer(Path baseDir, int port) {
    if (!Net.HOST.equals(SysProperties.BIND_ADDRESS)) {
      LOG.warn(
          "H2 was loaded in this JVM before the local stack set -D{}={}; its TCP server listens on"
              + " all interfaces (it still refuses remote clients). Pass -D{}={} to the JVM.",
          LocalStack.H2_BIND_ADDRESS_PROPERTY,
          Net.HOST,
          LocalStack.H2_BIND_ADDRESS_PROPERTY,
          Net.HOST);
    }
    try {
      // -tcpDaemon keeps a forgotten server from holding the JVM open. Without -tcpAllowOthers
      // only local clients connect.
      return Server.createTcpServer(
              "-tcpPort", Integer.toString(port), "-baseDir", baseDir.toString(), "-tcpDaemon")
          .start();
    } catch (SQLException e) {
      throw new LocalStackException(
          "Could not start the H2 TCP server on port "
              + port
              + " with data in "
              + baseDir
              + ": "
              + e.getMessage(),
          e);
    }
  }

  /**
   * Fails unless a TCP client lands in the database the keeper holds (not a second copy opened
   * under another name, which would close with its last client again).
   */
  private void checkServedIsHeld() {
    try (Connection client =
            DriverManager.getConnection(
                LocalStack.jdbcUrl(port()), LocalStack.JDBC_USER, LocalStack.JDBC_PASSWORD);
        Statement statement = client.createStatement();
        ResultSet sessions =
            statement.executeQuery("SELECT COUNT(*) FROM INFORMATION_SCHEMA.SESSIONS")) {
      sessions.next();
      if (sessions.getInt(1) < 2) {
        throw new LocalStackException(
            "The H2 TCP server opened a second copy of "
                + baseDir.resolve(LocalStack.DATABASE)
                + " instead of the one the stack holds; refusing to serve it.");
      }
    } catch (SQLException e) {
      throw new LocalStackException(
          "The H2 TCP server on port " + port() + " does not answer: " + e.getMessage(), e);
    }
  }

  private static void closeQuietly(Connection connection) {
    try {
      connection.close();
    } catch (SQLException e) {
      // Closing is best effort once SHUTDOWN ran or failed.
    }
  }
}
