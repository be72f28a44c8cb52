package dev.kappabeam.serve;

import dev.kappabeam.serving.JdbcUrls;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP server of {@code kb serve}: JSON endpoints over the live views and the view registry,
 * Prometheus metrics, and the web page.
 *
 * <pre>
 * GET /                      the page (HTML + JS from this jar's resources)
 * GET /api/views             the views, their live version and columns
 * GET /api/views/{view}?from=&amp;to=&amp;key=&amp;top=&amp;by=&amp;limit=   rows of the live alias
 * GET /api/lambda/{view}?limit=   the merged Lambda view
 * GET /api/versions          every version: status, job, lag per partition, counters, rate
 * GET /metrics               Prometheus text format
 * </pre>
 *
 * <p>Built on Jetty's core server (no servlets): connections are read and written by its selector
 * without holding a thread, so a client that sends half a request or never reads the answer holds a
 * connection, not a worker, and is closed after {@link ServerConfig#readTimeout()} without a byte
 * moving. Workers (at most {@value #MAX_THREADS}) only run complete requests; at most {@value
 * #MAX_CONNECTIONS} connections are open at once (more wait in the kernel's backlog). Every request
 * is checked, in this order: its {@code Host} names this server (else 421), then the bearer token
 * if one is configured (else 401 with {@code WWW-Authenticate: Bearer}; the page's static files
 * hold no data and are served without it). Errors are JSON {@code {"error": "..."}} with 400 (bad
 * request), 404 (unknown path, or a view without a live version), 405 (not GET/HEAD) or 503.
 *
 * <pre>{@code
 * try (KbServer server = KbServer.start(backend, ServerConfig.listen("127.0.0.1", 8080))) {
 *   server.awaitStop();
 * }
 * }</pre>
 */
public final class KbServer implements AutoCloseable {
  static final int MAX_THREADS = 16;
  static final int MAX_CONNECTIONS = 512;

  private static final Logger LOG = LoggerFactory.getLogger(KbServer.class);
  private static final String WEB = "/dev/kappabeam/serve/web/";
  private static final Map<String, String> STATIC =
      Map.of(
          "/", "index.html",
          "/index.html", "index.html",
          "/app.js", "app.js",
          "/style.css", "style.css");

  private final Server jetty;
  private final ServerConnector connector;
  private final ServeApi api;
  private final String host;
  private final Set<String> allowedHosts;
  private final BearerToken token;

  private KbServer(Server jetty, ServerConnector connector, ServeApi api, ServerConfig config) {
    this.jetty = jetty;
    this.connector = connector;
    this.api = api;
    this.host = config.host();
    this.allowedHosts = config.allowedHostNames();
    this.token = config.token().orElse(null);
  }

  /** Starts serving on {@code host:port} with the default timeouts and no token. */
  public static KbServer start(Backend backend, String host, int port) throws IOException {
    return start(backend, ServerConfig.listen(host, port));
  }

  /**
   * Starts serving as {@code config} says (port 0: a free one, see {@link #port()}).
   *
   * @throws IllegalArgumentException if {@code config} would expose the views (see {@link
   *     ServerConfig#check()})
   * @throws IOException if the address cannot be bound (e.g. the port is taken)
   * @throws dev.kappabeam.serving.ViewStoreException if the serving database cannot be read
   */
  public static KbServer start(Backend backend, ServerConfig config) throws IOException {
    config.check();
    ServeApi api = new ServeApi(backend, config.queryTimeout());
    try {
      // Fail now, with the database's message, rather than on the first request.
      api.views();
    } catch (RuntimeException e) {
      api.close();
      throw e;
    }
    QueuedThreadPool threads = new QueuedThreadPool(MAX_THREADS, 2);
    threads.setName("kb-serve");
    threads.setDaemon(true);
    Server jetty = new Server(threads);
    HttpConfiguration http = new HttpConfiguration();
    http.setSendServerVersion(false);
    http.setRequestHeaderSize(8 * 1024);
    // One acceptor and one selector: a handful of operators and scrapers, on a small machine.
    ServerConnector connector = new ServerConnector(jetty, 1, 1, new HttpConnectionFactory(http));
    connector.setHost(config.host());
    connector.setPort(config.port());
    connector.setIdleTimeout(config.readTimeout().toMillis());
    jetty.addConnector(connector);
    jetty.addBean(new NetworkConnectionLimit(MAX_CONNECTIONS, connector));
    jetty.setStopTimeout(1000);
    KbServer server = new KbServer(jetty, connector, api, config);
    jetty.setHandler(
        new Handler.Abstract() {
          @Override
          public boolean handle(Request request, Response response, Callback callback) {
            server.handle(request, response, callback);
            return true;
          }
        });
    try {
      jetty.start();
    } catch (Exception e) {
      stopQuietly(jetty);
      api.close();
      String cause = e.getCause() == null ? e.getMessage() : e.getCause().getMessage();
      throw new IOException(
          "cannot listen on " + config.host() + ":" + config.port() + ": " + cause, e);
    }
    return server;
  }

  /** The bound port. */
  public int port() {
    return connector.getLocalPort();
  }

  /** The page's address, e.g. {@code http://127.0.0.1:8080/}. */
  public String url() {
    String h = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    return "http://" + h + ":" + port() + "/";
  }

  private void handle(Request request, Response response, Callback callback) {
    Exchange ex = new Exchange(request, response, callback);
    String method = request.getMethod();
    String path = request.getHttpURI().getDecodedPath();
    try {
      String requestHost = ServerConfig.hostOf(request.getHeaders().get(HttpHeader.HOST));
      if (requestHost == null || !allowedHosts.contains(requestHost)) {
        // Another name pointing here (DNS rebinding) or a proxy we were not told about.
        throw new ApiException(
            421,
            "this server does not answer to that Host name; start kb serve with --allowed-host"
                + " NAME to add one");
      }
      if (!method.equals("GET") && !method.equals("HEAD")) {
        response.getHeaders().put(HttpHeader.ALLOW, "GET, HEAD");
        throw new ApiException(405, "only GET and HEAD are served");
      }
      if (STATIC.containsKey(path)) {
        staticFile(ex, STATIC.get(path));
        return;
      }
      if (token != null && !token.accepts(request.getHeaders().get(HttpHeader.AUTHORIZATION))) {
        response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer realm=\"kb serve\"");
        throw new ApiException(
            401,
            "this server needs Authorization: Bearer <token>, the token in kb serve's"
                + " --token-file");
      }
      route(ex, path, query(request.getHttpURI().getQuery()));
    } catch (ApiException e) {
      error(ex, e);
    } catch (RuntimeException e) {
      // The database or Kafka failed: say so, with the cause, instead of a bare 500.
      // Masked: a driver's message can quote its URL, and the body goes to any client.
      String message = JdbcUrls.redact(String.valueOf(e.getMessage()));
      LOG.warn("{} {} failed: {}", method, path, message);
      LOG.debug("{} {} failed", method, path, e);
      error(ex, new ApiException(503, message));
    }
  }

  /** One request being answered: the answer is written without blocking the worker. */
  private record Exchange(Request request, Response response, Callback callback) {}

  private void route(Exchange ex, String path, Map<String, String> params) {
    if (path.equals("/api/views") || path.equals("/api/views/")) {
      noParams(params);
      json(ex, 200, api.views());
    } else if (path.startsWith("/api/views/")) {
      String view = path.substring("/api/views/".length());
      json(ex, 200, api.rows(view, params));
    } else if (path.startsWith("/api/lambda/")) {
      json(ex, 200, api.lambdaRows(path.substring("/api/lambda/".length()), params));
    } else if (path.equals("/api/versions")) {
      noParams(params);
      json(ex, 200, api.versions());
    } else if (path.equals("/metrics")) {
      send(
          ex,
          200,
          PrometheusText.CONTENT_TYPE,
          Metrics.render(api.versionStates()).getBytes(StandardCharsets.UTF_8));
    } else {
      throw ApiException.notFound(
          "no such path "
              + path
              + "; try /, /api/views, /api/views/{view}, /api/lambda/{view}, /api/versions,"
              + " /metrics");
    }
  }

  private static void noParams(Map<String, String> params) {
    if (!params.isEmpty()) {
      throw ApiException.badRequest(
          "this endpoint takes no parameters, got " + String.join(", ", params.keySet()));
    }
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> out = new LinkedHashMap<>();
    if (raw == null || raw.isEmpty()) {
      return out;
    }
    for (String pair : raw.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String name = decode(eq < 0 ? pair : pair.substring(0, eq));
      String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
      if (out.put(name, value) != null) {
        throw ApiException.badRequest("parameter '" + name + "' given twice");
      }
    }
    return out;
  }

  private static String decode(String s) {
    try {
      return URLDecoder.decode(s, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("bad percent-encoding in the query string: " + s);
    }
  }

  private static void staticFile(Exchange ex, String name) {
    byte[] body;
    try (InputStream in = KbServer.class.getResourceAsStream(WEB + name)) {
      if (in == null) {
        throw ApiException.notFound("missing resource " + name);
      }
      body = in.readAllBytes();
    } catch (IOException e) {
      throw new IllegalStateException("cannot read resource " + name + ": " + e.getMessage(), e);
    }
    String type =
        name.endsWith(".html")
            ? "text/html; charset=utf-8"
            : name.endsWith(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8";
    send(ex, 200, type, body);
  }

  private static void json(Exchange ex, int status, Object value) {
    send(ex, status, "application/json", Json.write(value));
  }

  private static void error(Exchange ex, ApiException e) {
    json(ex, e.status, Map.of("error", JdbcUrls.redact(e.getMessage()), "status", e.status));
  }

  private static void send(Exchange ex, int status, String type, byte[] body) {
    Response response = ex.response();
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
    response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
    boolean head = ex.request().getMethod().equals("HEAD");
    // Jetty completes the callback once the bytes are out, or fails it after the read timeout if
    // the client stops reading: no worker waits for a slow reader.
    response.write(true, head ? null : ByteBuffer.wrap(body), ex.callback());
  }

  /** Blocks until the server is stopped (by {@link #close()} from another thread). */
  public void awaitStop() throws InterruptedException {
    jetty.join();
  }

  /** Stops accepting requests, lets running ones finish (up to 1 s), and closes the clients. */
  @Override
  public void close() {
    stopQuietly(jetty);
    api.close();
  }

  private static void stopQuietly(Server jetty) {
    try {
      jetty.stop();
    } catch (Exception e) {
      LOG.warn("stopping the HTTP server failed", e);
    }
  }
}
