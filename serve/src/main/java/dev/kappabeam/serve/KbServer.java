package dev.kappabeam.serve;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
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
 * GET /api/versions          every version: status, job, lag per partition, counters, rate
 * GET /metrics               Prometheus text format
 * </pre>
 *
 * <p>Built on the JDK's {@code com.sun.net.httpserver}: a handful of read-only GET endpoints for
 * operators and dashboards need no framework, and kb's classpath (Beam, Flink, Spark) is already
 * crowded with Jetty and Netty versions that a web framework would have to agree with. Requests run
 * on a small fixed pool. Errors are JSON {@code {"error": "..."}} with 400 (bad request), 404
 * (unknown path, or a view without a live version), 405 (not GET/HEAD) or 500/503.
 *
 * <pre>{@code
 * try (KbServer server = KbServer.start(new Backend(storeConfig, "127.0.0.1:9092"), "127.0.0.1", 8080)) {
 *   server.awaitStop();
 * }
 * }</pre>
 */
public final class KbServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(KbServer.class);
  private static final String WEB = "/dev/kappabeam/serve/web/";
  private static final Map<String, String> STATIC =
      Map.of(
          "/", "index.html",
          "/index.html", "index.html",
          "/app.js", "app.js",
          "/style.css", "style.css");

  private final HttpServer http;
  private final ExecutorService pool;
  private final ServeApi api;

  private KbServer(HttpServer http, ExecutorService pool, ServeApi api) {
    this.http = http;
    this.pool = pool;
    this.api = api;
  }

  /**
   * Starts serving on {@code host:port} (port 0: a free one, see {@link #port()}).
   *
   * @throws IOException if the address cannot be bound (e.g. the port is taken)
   * @throws dev.kappabeam.serving.ViewStoreException if the serving database cannot be read
   */
  public static KbServer start(Backend backend, String host, int port) throws IOException {
    ServeApi api = new ServeApi(backend);
    try {
      // Fail now, with the database's message, rather than on the first request.
      api.views();
    } catch (RuntimeException e) {
      api.close();
      throw e;
    }
    HttpServer http;
    try {
      http = HttpServer.create(new InetSocketAddress(host, port), 0);
    } catch (IOException e) {
      api.close();
      throw new IOException("cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
    }
    ExecutorService pool =
        Executors.newFixedThreadPool(
            4,
            r -> {
              Thread t = new Thread(r, "kb-serve");
              t.setDaemon(true);
              return t;
            });
    KbServer server = new KbServer(http, pool, api);
    http.createContext("/", server::handle);
    http.setExecutor(pool);
    http.start();
    return server;
  }

  /** The bound port. */
  public int port() {
    return http.getAddress().getPort();
  }

  /** The page's address, e.g. {@code http://127.0.0.1:8080/}. */
  public String url() {
    return "http://" + http.getAddress().getHostString() + ":" + port() + "/";
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String method = ex.getRequestMethod();
      if (!method.equals("GET") && !method.equals("HEAD")) {
        ex.getResponseHeaders().set("Allow", "GET, HEAD");
        error(ex, new ApiException(405, "only GET and HEAD are served"));
        return;
      }
      URI uri = ex.getRequestURI();
      String path = uri.getPath();
      try {
        route(ex, path, query(uri.getRawQuery()));
      } catch (ApiException e) {
        error(ex, e);
      } catch (RuntimeException e) {
        // The database or Kafka failed: say so, with the cause, instead of a bare 500.
        LOG.warn("{} {} failed", method, path, e);
        error(ex, new ApiException(503, String.valueOf(e.getMessage())));
      }
    }
  }

  private void route(HttpExchange ex, String path, Map<String, String> params) throws IOException {
    if (STATIC.containsKey(path)) {
      staticFile(ex, STATIC.get(path));
    } else if (path.equals("/api/views") || path.equals("/api/views/")) {
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

  private static void staticFile(HttpExchange ex, String name) throws IOException {
    byte[] body;
    try (InputStream in = KbServer.class.getResourceAsStream(WEB + name)) {
      if (in == null) {
        throw ApiException.notFound("missing resource " + name);
      }
      body = in.readAllBytes();
    }
    String type =
        name.endsWith(".html")
            ? "text/html; charset=utf-8"
            : name.endsWith(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8";
    send(ex, 200, type, body);
  }

  private static void json(HttpExchange ex, int status, Object value) throws IOException {
    send(ex, status, "application/json", Json.write(value));
  }

  private static void error(HttpExchange ex, ApiException e) throws IOException {
    json(ex, e.status, Map.of("error", e.getMessage(), "status", e.status));
  }

  private static void send(HttpExchange ex, int status, String type, byte[] body)
      throws IOException {
    ex.getResponseHeaders().set("Content-Type", type);
    ex.getResponseHeaders().set("Cache-Control", "no-store");
    boolean head = ex.getRequestMethod().equals("HEAD");
    ex.sendResponseHeaders(status, head ? -1 : body.length == 0 ? -1 : body.length);
    if (!head && body.length > 0) {
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    }
  }

  /** Blocks until the server is stopped (by {@link #close()} from another thread). */
  public void awaitStop() throws InterruptedException {
    pool.awaitTermination(Long.MAX_VALUE, TimeUnit.DAYS);
  }

  /** Stops accepting requests, lets running ones finish (up to 1 s), and closes the clients. */
  @Override
  public void close() {
    http.stop(1);
    pool.shutdown();
    api.close();
  }
}
