package dev.kappabeam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kappabeam.devstack.LocalStack;
import dev.kappabeam.transforms.views.ViewDefinition;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;
import org.joda.time.ReadableInstant;

/**
 * {@code kb serve} in a JVM of its own over a test stack, and what its HTTP API answers compared
 * with expected rows: the last step of every user flow (a version built by a job on some runner,
 * served to readers).
 */
final class ServedViews implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Process process;
  private final int port;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private ServedViews(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  /** Starts {@code kb serve} over the stack on a free loopback port and waits until it answers. */
  static ServedViews start(LocalStack stack, String name) throws Exception {
    return start(EndToEndSupport.kbArgs(stack), name);
  }

  /** The same with these connection flags (a secured Kafka listener, say) instead. */
  static ServedViews start(List<String> connection, String name) throws Exception {
    return start(connection, name, System.getProperty("java.class.path"));
  }

  /** The same on another class path (kb's with a plug-in jar, say). */
  static ServedViews start(List<String> connection, String name, String classPath)
      throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path dir = Files.createDirectories(Path.of("target", "it-logs"));
    File log = dir.resolve("serve-" + name + ".log").toFile();
    List<String> args = new ArrayList<>(List.of("serve", "--port", Integer.toString(port)));
    args.addAll(connection);
    Process p = EndToEndSupport.startKbProcess(classPath, List.of(), args, log);
    ServedViews served = new ServedViews(p, port);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try {
        served.body("/api/views");
        return served;
      } catch (IOException notYet) {
        if (!p.isAlive() || System.nanoTime() > deadline) {
          served.close();
          fail("kb serve did not answer:\n" + Files.readString(log.toPath()));
        }
        Thread.sleep(200);
      }
    }
  }

  /** {@code GET path}: the body of a 200 answer (an IOException while the server is not up). */
  private String body(String path) throws IOException, InterruptedException {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30))
                .build(),
            HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    assertEquals(200, r.statusCode(), path + ": " + r.body());
    return r.body();
  }

  /** {@code GET path}: the parsed JSON object of a 200 answer. */
  Map<String, Object> get(String path) throws IOException, InterruptedException {
    return JSON.readValue(body(path), new TypeReference<Map<String, Object>>() {});
  }

  /** {@code GET /api/versions}: one object per registered version, lag and counters included. */
  List<Map<String, Object>> versions() throws IOException, InterruptedException {
    return JSON.readValue(body("/api/versions"), new TypeReference<List<Map<String, Object>>>() {});
  }

  /**
   * {@code GET /api/views/{view}} serves {@code version} (the live one) with exactly {@code
   * expected}, whatever the order.
   */
  void assertLive(ViewDefinition view, String version, List<Row> expected) throws Exception {
    Map<String, Object> body = get("/api/views/" + view.name() + "?limit=" + limitFor(expected));
    assertEquals(version, body.get("version"), "the live version kb serve reads: " + body);
    assertSameRows(view, expected, body, "kb serve /api/views/" + view.name());
  }

  /** {@code GET /api/lambda/{view}} serves exactly {@code expected}, the merged batch + speed. */
  void assertLambda(ViewDefinition view, List<Row> expected) throws Exception {
    Map<String, Object> body = get("/api/lambda/" + view.name() + "?limit=" + limitFor(expected));
    assertSameRows(view, expected, body, "kb serve /api/lambda/" + view.name());
  }

  private static int limitFor(List<Row> expected) {
    if (expected.size() >= 10_000) {
      throw new IllegalArgumentException("a served page holds at most 10,000 rows");
    }
    return expected.size() + 1; // one more: a page that holds more rows than expected shows them
  }

  @SuppressWarnings("unchecked")
  private static void assertSameRows(
      ViewDefinition view, List<Row> expected, Map<String, Object> body, String what) {
    assertEquals(Boolean.FALSE, body.get("truncated"), what + ": " + body.get("count") + " rows");
    List<Map<String, Object>> served = new ArrayList<>();
    for (Map<String, Object> r : (List<Map<String, Object>>) body.get("rows")) {
      served.add(normalised(view, r));
    }
    List<Map<String, Object>> wanted = new ArrayList<>();
    for (Row r : expected) {
      Map<String, Object> m = new LinkedHashMap<>();
      for (Schema.Field f : view.schema().getFields()) {
        Object v = r.getValue(f.getName());
        if (v instanceof ReadableInstant t) {
          v = DateTimeFormatter.ISO_INSTANT.format(java.time.Instant.ofEpochMilli(t.getMillis()));
        }
        m.put(f.getName(), v);
      }
      wanted.add(normalised(view, m));
    }
    Comparator<Map<String, Object>> byText = Comparator.comparing(Object::toString);
    served.sort(byText);
    wanted.sort(byText);
    assertEquals(wanted, served, what + " against the expected rows");
  }

  /** Numbers as the column's type (JSON integers may parse as Integer), the rest as it is. */
  private static Map<String, Object> normalised(ViewDefinition view, Map<String, Object> row) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (Schema.Field f : view.schema().getFields()) {
      Object v = row.get(f.getName());
      Schema.TypeName t = f.getType().getTypeName();
      if (v instanceof Number n) {
        v =
            t == Schema.TypeName.DOUBLE || t == Schema.TypeName.FLOAT
                ? (Object) n.doubleValue()
                : (Object) n.longValue();
      }
      out.put(f.getName(), v);
    }
    return out;
  }

  @Override
  public void close() throws IOException, InterruptedException {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
