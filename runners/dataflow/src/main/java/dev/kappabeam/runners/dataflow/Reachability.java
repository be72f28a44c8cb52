package dev.kappabeam.runners.dataflow;

import java.util.Locale;
import java.util.Optional;

/**
 * Address checks for remote workers: which Kafka and JDBC addresses only the launching machine can
 * reach. Pure string checks (no DNS lookups), so they work offline and give the same answer
 * everywhere.
 */
final class Reachability {
  private Reachability() {}

  /** The first loopback host of a Kafka bootstrap list ({@code host:port,host:port}), if any. */
  static Optional<String> loopbackHost(String bootstrapServers) {
    if (bootstrapServers == null) {
      return Optional.empty();
    }
    for (String server : bootstrapServers.split(",")) {
      String host = host(server.strip());
      if (isLoopback(host)) {
        return Optional.of(host);
      }
    }
    return Optional.empty();
  }

  /**
   * Why a JDBC URL is reachable only from the launching machine: an embedded H2 database (in memory
   * or in a local file: every worker would get its own) or a server on a loopback address.
   */
  static Optional<String> unreachableJdbcUrl(String url) {
    if (url == null || url.isBlank()) {
      return Optional.empty();
    }
    String u = url.strip();
    String lower = u.toLowerCase(Locale.ROOT);
    if (lower.startsWith("jdbc:h2:")) {
      String rest = lower.substring("jdbc:h2:".length());
      if (!rest.startsWith("tcp://") && !rest.startsWith("ssl://")) {
        return Optional.of("an embedded H2 database (each worker would open its own)");
      }
      String host = host(hostPort(u.substring("jdbc:h2:".length() + 6)));
      return isLoopback(host)
          ? Optional.of("an H2 server on the loopback address " + host)
          : Optional.empty();
    }
    int scheme = lower.indexOf("://");
    if (scheme < 0) {
      return Optional.empty();
    }
    String host = host(hostPort(u.substring(scheme + 3)));
    return isLoopback(host)
        ? Optional.of("a database server on the loopback address " + host)
        : Optional.empty();
  }

  /** {@code host:port} from the part of a URL after {@code //}: up to the first / ? or ;. */
  private static String hostPort(String afterSlashes) {
    int end = afterSlashes.length();
    for (char c : new char[] {'/', '?', ';', ','}) {
      int i = afterSlashes.indexOf(c);
      if (i >= 0 && i < end) {
        end = i;
      }
    }
    String hp = afterSlashes.substring(0, end);
    int at = hp.lastIndexOf('@');
    return at >= 0 ? hp.substring(at + 1) : hp;
  }

  /** The host of {@code host}, {@code host:port}, {@code [v6]} or {@code [v6]:port}. */
  static String host(String hostPort) {
    String s = hostPort.strip();
    if (s.startsWith("[")) {
      int close = s.indexOf(']');
      return close > 0 ? s.substring(1, close) : s;
    }
    int colon = s.indexOf(':');
    if (colon >= 0 && s.indexOf(':', colon + 1) < 0) {
      return s.substring(0, colon);
    }
    return s; // a bare IPv6 address, or a host without port
  }

  static boolean isLoopback(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    return h.isEmpty()
        || h.equals("localhost")
        || h.endsWith(".localhost")
        || h.startsWith("127.")
        || h.equals("::1")
        || h.equals("0:0:0:0:0:0:0:1")
        || h.equals("0.0.0.0");
  }
}
