package dev.kappabeam.serve;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Where and how {@link KbServer} listens: address, timeouts, the {@code Host} names it answers to
 * and the bearer token it requires. Immutable; each {@code withX} validates and returns a copy.
 *
 * <ul>
 *   <li>{@code readTimeout}: a connection on which no byte moves for this long (a request sent
 *       half, a response the client does not read, an idle keep-alive) is closed.
 *   <li>{@code queryTimeout}: the database work of one request; an answer not ready by then is a
 *       503.
 *   <li>allowed hosts: a request's {@code Host} must name the bind address, or {@code localhost},
 *       {@code 127.0.0.1} or {@code [::1]} when bound to loopback, or an {@code --allowed-host}: a
 *       page of another site cannot reach the server through a DNS name it points here (DNS
 *       rebinding).
 *   <li>token: required on every address but loopback (see {@link #check()}).
 * </ul>
 *
 * <pre>{@code
 * ServerConfig config = ServerConfig.listen("0.0.0.0", 8080)
 *     .withAllowedHosts(List.of("kb.example.com"))
 *     .withToken(BearerToken.fromFile(Path.of("/etc/kb/serve.token")));
 * }</pre>
 */
public final class ServerConfig {
  static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(10);
  static final Duration DEFAULT_QUERY_TIMEOUT = Duration.ofSeconds(30);

  private static final Pattern HOST_NAME =
      Pattern.compile("[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\\.?");
  private static final Pattern IPV6 = Pattern.compile("\\[[0-9a-f:.]+(%[a-z0-9]+)?]");

  private final String host;
  private final int port;
  private final Duration readTimeout;
  private final Duration queryTimeout;
  private final List<String> allowedHosts;
  private final BearerToken token;

  private ServerConfig(
      String host,
      int port,
      Duration readTimeout,
      Duration queryTimeout,
      List<String> allowedHosts,
      BearerToken token) {
    this.host = host;
    this.port = port;
    this.readTimeout = readTimeout;
    this.queryTimeout = queryTimeout;
    this.allowedHosts = allowedHosts;
    this.token = token;
  }

  /** Listen on {@code host:port} (port 0: a free one), default timeouts, no token. */
  public static ServerConfig listen(String host, int port) {
    Objects.requireNonNull(host, "host");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("--port must be between 0 and 65535, got " + port);
    }
    return new ServerConfig(
        host, port, DEFAULT_READ_TIMEOUT, DEFAULT_QUERY_TIMEOUT, List.of(), null);
  }

  public ServerConfig withReadTimeout(Duration timeout) {
    return new ServerConfig(
        host, port, positive(timeout, "--read-timeout"), queryTimeout, allowedHosts, token);
  }

  public ServerConfig withQueryTimeout(Duration timeout) {
    return new ServerConfig(
        host, port, readTimeout, positive(timeout, "--query-timeout"), allowedHosts, token);
  }

  /**
   * Further names a request's {@code Host} may give (without port), e.g. {@code kb.example.com}.
   */
  public ServerConfig withAllowedHosts(List<String> hosts) {
    List<String> out = new ArrayList<>();
    for (String h : hosts) {
      String n = normalize(h);
      if (n == null) {
        throw new IllegalArgumentException(
            "--allowed-host '"
                + h
                + "' is not a host name or IP address; give the name clients put in the URL,"
                + " without scheme or port, e.g. --allowed-host kb.example.com");
      }
      out.add(n);
    }
    return new ServerConfig(host, port, readTimeout, queryTimeout, List.copyOf(out), token);
  }

  public ServerConfig withToken(BearerToken token) {
    return new ServerConfig(host, port, readTimeout, queryTimeout, allowedHosts, token);
  }

  String host() {
    return host;
  }

  int port() {
    return port;
  }

  Duration readTimeout() {
    return readTimeout;
  }

  Duration queryTimeout() {
    return queryTimeout;
  }

  Optional<BearerToken> token() {
    return Optional.ofNullable(token);
  }

  /**
   * Refuses what would expose the views: a non-loopback address without a token, and a wildcard
   * address ({@code 0.0.0.0}, {@code ::}) without {@code --allowed-host} (no request could name
   * it).
   *
   * @throws IllegalArgumentException with what to do instead
   */
  ServerConfig check() {
    InetAddress address = address();
    if (!address.isLoopbackAddress() && token == null) {
      throw new IllegalArgumentException(
          "--host "
              + host
              + " is not a loopback address: anyone who can reach it could read every view."
              + " Give --token-file FILE (a random secret, e.g. openssl rand -hex 32 > FILE;"
              + " clients send Authorization: Bearer <secret>), or listen on 127.0.0.1");
    }
    if (address.isAnyLocalAddress() && allowedHosts.isEmpty()) {
      throw new IllegalArgumentException(
          "--host "
              + host
              + " listens on every interface, so no Host header can name it; give the names"
              + " clients use with --allowed-host (repeatable), e.g. --allowed-host kb.example.com"
              + " --allowed-host 10.0.0.5");
    }
    return this;
  }

  /** The {@code Host} names (lower case, IPv6 in brackets, no port) requests may give. */
  Set<String> allowedHostNames() {
    Set<String> out = new LinkedHashSet<>();
    InetAddress address = address();
    if (!address.isAnyLocalAddress()) {
      out.add(normalize(host));
    }
    if (address.isLoopbackAddress()) {
      out.addAll(List.of("localhost", "127.0.0.1", "[::1]"));
    }
    out.addAll(allowedHosts);
    return out;
  }

  private InetAddress address() {
    try {
      return InetAddress.getByName(host);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(
          "--host " + host + " is not an address of this machine: " + e.getMessage(), e);
    }
  }

  /**
   * The host part of a {@code Host} header ({@code name}, {@code name:port}, {@code [v6]:port}),
   * lower case without a trailing dot; null if it is none.
   */
  static String hostOf(String header) {
    if (header == null) {
      return null;
    }
    String h = header.strip().toLowerCase(Locale.ROOT);
    int colon = h.lastIndexOf(':');
    if (colon >= 0 && colon > h.lastIndexOf(']')) {
      String port = h.substring(colon + 1);
      if (!port.chars().allMatch(Character::isDigit)) {
        return null;
      }
      h = h.substring(0, colon);
    }
    return normalize(h);
  }

  /** A host name or IP address as a Host header gives it, or null if it is neither. */
  private static String normalize(String name) {
    String h = name.strip().toLowerCase(Locale.ROOT);
    if (h.contains(":") && !h.startsWith("[")) {
      h = "[" + h + "]";
    }
    if (IPV6.matcher(h).matches()) {
      return h;
    }
    if (h.endsWith(".")) {
      h = h.substring(0, h.length() - 1);
    }
    return HOST_NAME.matcher(h).matches() ? h : null;
  }

  private static Duration positive(Duration d, String name) {
    if (d == null || d.isNegative() || d.isZero() || d.toMillis() < 1) {
      throw new IllegalArgumentException(name + " must be positive, e.g. PT10S; got " + d);
    }
    return d;
  }
}
