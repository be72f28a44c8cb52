package dev.kappabeam.archive;

import java.io.Serializable;
import java.util.Objects;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.ResolveOptions.StandardResolveOptions;
import org.apache.beam.sdk.io.fs.ResourceId;

/**
 * Where an archive keeps a topic: under the archive's URI (a local folder, {@code
 * s3://bucket/prefix} or {@code gs://bucket/prefix}, through Beam's file systems), one folder per
 * topic holding {@code manifest.json} and a folder per partition of Parquet files named by their
 * offset range:
 *
 * <pre>
 * URI/&lt;topic&gt;/manifest.json
 * URI/&lt;topic&gt;/partition=0/00000000000000000000-00000000000000100000.parquet   offsets [0, 100000)
 * </pre>
 *
 * Offsets are zero-padded to 20 digits so names sort as offsets do. A file not named in the
 * manifest (a crashed run's, or one being written) is never read.
 */
public final class ArchiveLayout implements Serializable {
  private final String uri;

  private ArchiveLayout(String uri) {
    this.uri = uri;
  }

  /**
   * The archive at {@code uri}: a folder path, {@code file://...}, {@code s3://...}, {@code
   * gs://...}.
   */
  public static ArchiveLayout at(String uri) {
    Objects.requireNonNull(uri, "uri");
    if (uri.isBlank()) {
      throw new IllegalArgumentException("the archive URI must not be empty");
    }
    return new ArchiveLayout(uri.endsWith("/") ? uri : uri + "/");
  }

  public String uri() {
    return uri;
  }

  /** The archive's root folder. */
  public ResourceId root() {
    return FileSystems.matchNewResource(uri, true);
  }

  /** The topic's folder. */
  public ResourceId topic(String topic) {
    checkTopic(topic);
    return root().resolve(topic, StandardResolveOptions.RESOLVE_DIRECTORY);
  }

  /** The topic's manifest. */
  public ResourceId manifest(String topic) {
    return topic(topic).resolve(MANIFEST, StandardResolveOptions.RESOLVE_FILE);
  }

  /** The name of the file of {@code [from, to)} of a partition, relative to the topic's folder. */
  public static String fileName(int partition, long from, long to) {
    return String.format("partition=%d/%020d-%020d.parquet", partition, from, to);
  }

  /** A file of the topic, by its name relative to the topic's folder ({@link #fileName}). */
  public ResourceId file(String topic, String relative) {
    String[] parts = relative.split("/", 2);
    return topic(topic)
        .resolve(parts[0], StandardResolveOptions.RESOLVE_DIRECTORY)
        .resolve(parts[1], StandardResolveOptions.RESOLVE_FILE);
  }

  static final String MANIFEST = "manifest.json";

  /** Kafka's own rule for topic names: they are also folder names here. */
  static void checkTopic(String topic) {
    if (topic == null
        || topic.isEmpty()
        || topic.length() > 249
        || topic.equals(".")
        || topic.equals("..")
        || !topic.matches("[a-zA-Z0-9._-]+")) {
      throw new IllegalArgumentException("not a Kafka topic name: '" + topic + "'");
    }
  }

  @Override
  public String toString() {
    return uri;
  }
}
