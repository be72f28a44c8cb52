package dev.kappabeam.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kappabeam.serving.LambdaRegistry;
import dev.kappabeam.transforms.views.Views;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.values.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kb serve} facing clients it cannot trust, on a real local stack: slow and idle clients,
 * foreign {@code Host} names, missing and wrong tokens, and limits that must reach SQL. Requests go
 * over raw sockets, so the test controls every byte (the JDK's HTTP client sets {@code Host}
 * itself).
 */
class ExposedServerIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SECRET = "kb-test-token-6f1c0d8e4a7b";

  @TempDir static Path dir;

  /** Loopback, a 1 s read timeout, an extra host name. */
  private static ServeFixture open;

  /** Loopback with a bearer token. */
  private static ServeFixture locked;

  @BeforeAll
  static void setUp() throws Exception {
    open =
        new ServeFixture(
            "exposed",
            ServerConfig.listen("127.0.0.1", 0)
                .withReadTimeout(Duration.ofSeconds(1))
                .withAllowedHosts(List.of("kb.example.com")));
    Path tokenFile = dir.resolve("token");
    Files.writeString(tokenFile, SECRET + "\n");
    locked =
        new ServeFixture(
            "locked",
            ServerConfig.listen("127.0.0.1", 0).withToken(BearerToken.fromFile(tokenFile)));
  }

  @AfterAll
  static void tearDown() {
    open.close();
    locked.close();
  }

  /** A status line, headers and body as the server sent them. */
  record Answer(int status, String head, String body) {
    JsonNode json() throws IOException {
      return JSON.readTree(body);
    }
  }

  /** {@code GET path} with these header lines, over a fresh connection closed after the answer. */
  private static Answer get(ServeFixture f, String path, String... headers) throws IOException {
    try (Socket s = connect(f)) {
      s.setSoTimeout(10_000);
      StringBuilder req = new StringBuilder("GET " + path + " HTTP/1.1\r\n");
      for (String h : headers) {
        req.append(h).append("\r\n");
      }
      req.append("Connection: close\r\n\r\n");
      s.getOutputStream().write(req.toString().getBytes(StandardCharsets.US_ASCII));
      String text = new String(readToEnd(s.getInputStream()), StandardCharsets.UTF_8);
      int split = text.indexOf("\r\n\r\n");
      String head = text.substring(0, split);
      return new Answer(Integer.parseInt(head.split(" ")[1]), head, text.substring(split + 4));
    }
  }

  private static Answer get(ServeFixture f, String path) throws IOException {
    return get(f, path, "Host: 127.0.0.1:" + f.server.port());
  }

  private static Socket connect(ServeFixture f) throws IOException {
    Socket s = new Socket();
    s.connect(new InetSocketAddress("127.0.0.1", f.server.port()), 5_000);
    return s;
  }

  private static byte[] readToEnd(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    in.transferTo(out);
    return out.toByteArray();
  }

  @Test
  void halfSentRequestsOnMoreConnectionsThanWorkersDoNotDelayOthers() throws Exception {
    List<Socket> slow = new ArrayList<>();
    try {
      for (int i = 0; i < 3 * KbServer.MAX_THREADS; i++) {
        Socket s = connect(open);
        s.getOutputStream()
            .write("GET /api/views HTTP/1.1\r\nHost: 127.0".getBytes(StandardCharsets.US_ASCII));
        slow.add(s);
      }
      long start = System.nanoTime();
      Answer answer = get(open, "/api/views");
      long millis = (System.nanoTime() - start) / 1_000_000;
      assertEquals(200, answer.status(), answer.body());
      // Well under the read timeout: the answer did not wait for a slow client to be cut off.
      assertTrue(millis < 900, "answered in " + millis + " ms");
    } finally {
      for (Socket s : slow) {
        s.close();
      }
    }
  }

  @Test
  void aConnectionThatStopsSendingIsClosedAfterTheReadTimeout() throws Exception {
    try (Socket s = connect(open)) {
      s.getOutputStream()
          .write("GET /api/views HTTP/1.1\r\nHost: 127.0".getBytes(StandardCharsets.US_ASCII));
      long start = System.nanoTime();
      // Whatever the server says before closing (a 408 or nothing), the stream must end: read
      // blocks until then, within a deadline far above the 1 s read timeout.
      s.setSoTimeout(15_000);
      try {
        readToEnd(s.getInputStream());
      } catch (SocketTimeoutException e) {
        throw new AssertionError("the half-sent request's connection is still open after 15 s", e);
      }
      long millis = (System.nanoTime() - start) / 1_000_000;
      assertTrue(millis >= 900, "closed after " + millis + " ms, before the read timeout");
    }
  }

  @Test
  void anIdleKeepAliveConnectionIsClosedAfterTheReadTimeout() throws Exception {
    try (Socket s = connect(open)) {
      s.getOutputStream()
          .write(
              ("GET /api/views HTTP/1.1\r\nHost: localhost:" + open.server.port() + "\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      s.setSoTimeout(15_000);
      byte[] answer;
      try {
        answer = readToEnd(s.getInputStream());
      } catch (SocketTimeoutException e) {
        throw new AssertionError("the idle keep-alive connection is still open after 15 s", e);
      }
      assertTrue(
          new String(answer, StandardCharsets.UTF_8).startsWith("HTTP/1.1 200"),
          "the answer came, then the idle connection was closed");
    }
  }

  @Test
  void aHostNameThatIsNotThisServerIs421() throws Exception {
    int port = open.server.port();
    for (String host :
        new String[] {
          "evil.example:" + port, "evil.example", "127.0.0.1.evil.example", "kb.example.com.evil"
        }) {
      Answer a = get(open, "/api/views", "Host: " + host);
      assertEquals(421, a.status(), host + ": " + a.body());
      assertTrue(a.json().get("error").asText().contains("--allowed-host"), a.body());
      // The page too: a rebinding page must not even load the script.
      assertEquals(421, get(open, "/", "Host: " + host).status(), host);
    }
    for (String host :
        new String[] {
          "127.0.0.1:" + port, "localhost:" + port, "LOCALHOST", "[::1]:" + port, "kb.example.com"
        }) {
      assertEquals(200, get(open, "/api/views", "Host: " + host).status(), host);
    }
  }

  @Test
  void aRequestWithoutHostIsRefused() throws Exception {
    try (Socket s = connect(open)) {
      s.setSoTimeout(10_000);
      s.getOutputStream()
          .write("GET /api/views HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      String text = new String(readToEnd(s.getInputStream()), StandardCharsets.UTF_8);
      assertFalse(text.startsWith("HTTP/1.1 200"), text);
    }
  }

  @Test
  void withATokenTheApiNeedsItAndThePageDoesNot() throws Exception {
    String host = "Host: 127.0.0.1:" + locked.server.port();
    for (String path : new String[] {"/api/views", "/api/versions", "/metrics", "/nope"}) {
      for (String[] auth :
          new String[][] {
            {},
            {"Authorization: Bearer wrong-token-of-some-length"},
            {"Authorization: Bearer " + SECRET.substring(0, SECRET.length() - 1)},
            {"Authorization: Basic " + SECRET}
          }) {
        List<String> headers = new ArrayList<>(List.of(host));
        headers.addAll(List.of(auth));
        Answer a = get(locked, path, headers.toArray(String[]::new));
        assertEquals(401, a.status(), path + " " + List.of(auth) + ": " + a.body());
        assertTrue(a.head().contains("WWW-Authenticate: Bearer"), a.head());
        assertFalse(a.body().contains(SECRET), a.body());
      }
    }
    assertEquals(200, get(locked, "/api/views", host, "Authorization: Bearer " + SECRET).status());
    assertEquals(200, get(locked, "/metrics", host, "Authorization: Bearer " + SECRET).status());
    // The page holds no data; it asks for the token and sends it on its API calls.
    Answer page = get(locked, "/", host);
    assertEquals(200, page.status());
    assertTrue(page.body().contains("token-form"), page.body());
    // The Host check comes first: a foreign name learns nothing, not even that a token is needed.
    assertEquals(
        421,
        get(locked, "/api/views", "Host: evil.example", "Authorization: Bearer " + SECRET)
            .status());
  }

  @Test
  void aNonLoopbackAddressWithoutATokenIsRefused() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                KbServer.start(
                    new Backend(open.config, null),
                    ServerConfig.listen("0.0.0.0", 0).withAllowedHosts(List.of("kb"))));
    assertTrue(e.getMessage().contains("--token-file"), e.getMessage());
  }

  @Test
  void lambdaLimitIsReadInSqlNotAfterReadingTheWholeView() throws Exception {
    LambdaRegistry lambda = new LambdaRegistry(open.config);
    long id =
        lambda.newCutoff(
            List.of(Views.ACTIVITY_PER_MINUTE.name()),
            open.topic,
            Map.of(0, 10L),
            "now",
            1_800_000L);
    List<Row> batch = new ArrayList<>();
    List<Row> speed = new ArrayList<>();
    for (int m = 0; m < 500; m++) {
      batch.add(partial(m, "view", 2, "u-a", "u-b"));
      speed.add(partial(m, "view", 1, "u-b", "u-c"));
    }
    // A row far beyond any page that no exact merge accepts (2 users claimed, 1 listed): a read
    // of the whole view fails on it, a read of the first rows never meets it.
    batch.add(
        Row.withSchema(Views.ACTIVITY_PER_MINUTE_PARTIAL.schema())
            .addValues(ServeFixture.T0.plus(600 * 60_000L), "view", 1L, 2L, 0L, "[\"u-a\"]")
            .build());
    write("lambda_b" + id, batch);
    lambda.batchEnded(Views.ACTIVITY_PER_MINUTE.name(), id, LambdaRegistry.DONE);
    write("lambda_s" + id, speed);
    lambda.rebase(
        Views.ACTIVITY_PER_MINUTE, lambda.cutoff(Views.ACTIVITY_PER_MINUTE.name(), id).get());

    Answer a = get(open, "/api/lambda/activity_per_minute?limit=5");
    assertEquals(200, a.status(), a.body());
    JsonNode body = a.json();
    assertEquals(5, body.get("count").asInt());
    assertEquals(5, body.get("rows").size());
    assertTrue(body.get("truncated").asBoolean());
    JsonNode first = body.get("rows").get(0);
    assertEquals("2026-11-25T10:00:00Z", first.get("window_start").asText());
    assertEquals(3, first.get("events").asInt());
    // {u-a, u-b} and {u-b, u-c}: three users, merged exactly across the cutoff.
    assertEquals(3, first.get("distinct_users").asInt());
    // The whole view: the odd row is on one side only, so the SQL view serves it as it is.
    JsonNode all = get(open, "/api/lambda/activity_per_minute?limit=10000").json();
    assertEquals(501, all.get("count").asInt());
    assertFalse(all.get("truncated").asBoolean());
  }

  @Test
  void badLimitsAre400() throws Exception {
    for (String path :
        new String[] {"/api/lambda/activity_per_minute", "/api/views/activity_per_minute"}) {
      for (String limit : new String[] {"0", "-1", "abc", "10001", "1e3", "", "5;DROP"}) {
        Answer a = get(open, path + "?limit=" + limit);
        assertEquals(400, a.status(), path + "?limit=" + limit + ": " + a.body());
        assertTrue(a.json().get("error").asText().contains("limit"), a.body());
      }
    }
  }

  private static Row partial(int minute, String type, long events, String... users) {
    return Row.withSchema(Views.ACTIVITY_PER_MINUTE_PARTIAL.schema())
        .addValues(
            ServeFixture.T0.plus(minute * 60_000L),
            type,
            events,
            (long) users.length,
            0L,
            "[\"" + String.join("\",\"", users) + "\"]")
        .build();
  }

  private static void write(String version, List<Row> rows) {
    open.store.createTable(Views.ACTIVITY_PER_MINUTE_PARTIAL, version);
    open.store.apply(Views.ACTIVITY_PER_MINUTE_PARTIAL, version, rows);
  }
}
