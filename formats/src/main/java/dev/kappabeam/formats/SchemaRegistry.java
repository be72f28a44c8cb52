package dev.kappabeam.formats;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.Serializable;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * Writer schemas by id from a Confluent-compatible schema registry ({@code GET
 * <url>/schemas/ids/<id>} answers {@code {"schema": "<the schema as JSON text>"}}), each fetched
 * once per process and kept: a schema id never changes meaning.
 *
 * <p>An id the registry does not know (HTTP 404) is {@link Optional#empty()}: the record that names
 * it is a dead letter. A registry that does not answer, or answers with a server error, is retried
 * with backoff for up to {@link #patience()}; then {@link RegistryUnavailableException}, which the
 * caller lets stop the step (the record is not at fault). Credentials, when the registry needs
 * them, come from the environment ({@code KB_SCHEMA_REGISTRY_USER} / {@code
 * KB_SCHEMA_REGISTRY_PASSWORD}, HTTP basic), never from flags or options.
 */
public final class SchemaRegistry implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final Map<String, Map<Integer, Schema>> CACHE = new ConcurrentHashMap<>();
  private static final JsonFactory JSON = new JsonFactory();

  private final String url;
  private final Duration patience;
  private transient @Nullable HttpClient http;

  private SchemaRegistry(String url, Duration patience) {
    this.url = url;
    this.patience = patience;
  }

  /** The registry at {@code url} (http or https), retried for up to 2 minutes. */
  public static SchemaRegistry at(String url) {
    URI u;
    try {
      u = URI.create(url);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("schema registry URL is not a URL: " + url, e);
    }
    if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme())) {
      throw new IllegalArgumentException("schema registry URL must be http(s)://..., got " + url);
    }
    if (u.getUserInfo() != null) {
      throw new IllegalArgumentException(
          "no credentials in the schema registry URL: set KB_SCHEMA_REGISTRY_USER and"
              + " KB_SCHEMA_REGISTRY_PASSWORD");
    }
    String base = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    return new SchemaRegistry(base, Duration.ofMinutes(2));
  }

  /** The same registry, retried for up to {@code patience} before it counts as unavailable. */
  public SchemaRegistry withPatience(Duration patience) {
    return new SchemaRegistry(url, patience);
  }

  public String url() {
    return url;
  }

  public Duration patience() {
    return patience;
  }

  /** The writer schema of {@code id}; empty when the registry does not know the id. */
  public Optional<Schema> schema(int id) {
    Map<Integer, Schema> known = CACHE.computeIfAbsent(url, k -> new ConcurrentHashMap<>());
    Schema cached = known.get(id);
    if (cached != null) {
      return Optional.of(cached);
    }
    Optional<Schema> fetched = fetch(id);
    fetched.ifPresent(s -> known.put(id, s));
    return fetched;
  }

  private Optional<Schema> fetch(int id) {
    long deadline = System.nanoTime() + patience.toNanos();
    long backoffMillis = 100;
    String where = url + "/schemas/ids/" + id;
    while (true) {
      String problem;
      try {
        HttpResponse<String> r =
            client().send(request(where), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return Optional.of(parse(r.body(), where));
        }
        if (r.statusCode() == 404) {
          return Optional.empty();
        }
        if (r.statusCode() == 401 || r.statusCode() == 403) {
          throw new RegistryUnavailableException(
              "schema registry " + url + " refused the credentials (HTTP " + r.statusCode() + ")",
              null);
        }
        problem = "HTTP " + r.statusCode();
      } catch (IOException e) {
        problem = e.getClass().getSimpleName() + ": " + e.getMessage();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new RegistryUnavailableException("interrupted while asking " + where, e);
      }
      if (System.nanoTime() > deadline) {
        throw new RegistryUnavailableException(
            "schema registry " + url + " did not answer for " + patience + " (" + problem + ")",
            null);
      }
      try {
        Thread.sleep(backoffMillis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new RegistryUnavailableException("interrupted while asking " + where, e);
      }
      backoffMillis = Math.min(backoffMillis * 2, 5_000);
    }
  }

  private HttpRequest request(String where) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(where))
            .timeout(Duration.ofSeconds(10))
            .header("Accept", "application/vnd.schemaregistry.v1+json, application/json");
    String user = System.getenv("KB_SCHEMA_REGISTRY_USER");
    String password = System.getenv("KB_SCHEMA_REGISTRY_PASSWORD");
    if (user != null && password != null) {
      String token =
          java.util.Base64.getEncoder()
              .encodeToString(
                  (user + ":" + password).getBytes(java.nio.charset.StandardCharsets.UTF_8));
      b.header("Authorization", "Basic " + token);
    }
    return b.GET().build();
  }

  private HttpClient client() {
    if (http == null) {
      http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }
    return http;
  }

  /** The "schema" member of the registry's answer, as an Avro schema. */
  static Schema parse(String body, String where) {
    String text = null;
    try (JsonParser p = JSON.createParser(body)) {
      if (p.nextToken() == JsonToken.START_OBJECT) {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String name = p.currentName();
          JsonToken t = p.nextToken();
          if ("schema".equals(name) && t == JsonToken.VALUE_STRING) {
            text = p.getText();
          } else {
            p.skipChildren();
          }
        }
      }
    } catch (IOException e) {
      throw new RegistryUnavailableException(where + " answered with no JSON: " + e, e);
    }
    if (text == null) {
      throw new RegistryUnavailableException(where + " answered without a schema", null);
    }
    try {
      return new Schema.Parser().parse(text);
    } catch (SchemaParseException e) {
      throw new RegistryUnavailableException(where + " answered with an invalid schema", e);
    }
  }

  /** The registry does not answer: not the record's fault (see {@link SchemaRegistry}). */
  public static final class RegistryUnavailableException
      extends dev.kappabeam.transforms.events.EventFormat.Unavailable {
    private static final long serialVersionUID = 1L;

    RegistryUnavailableException(String message, @Nullable Throwable cause) {
      super(message, cause);
    }
  }
}
