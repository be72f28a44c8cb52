package dev.kappabeam.archive;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.io.fs.ResolveOptions.StandardResolveOptions;
import org.apache.beam.sdk.io.fs.ResourceId;

/**
 * Which offset ranges of a topic's partitions are archived, and in which file each: the only thing
 * a reader of the archive trusts. It is rewritten whole (to a temporary name, then renamed over the
 * old one) only after the files it adds are complete under their final names, so it never names a
 * missing or partial file; a crash before that leaves files it does not name, which are ignored and
 * written again (same range, same name) by the next run.
 *
 * <pre>{@code
 * {"format": "kappa-beam-archive/1", "topic": "events",
 *  "partitions": {"0": [{"from": 0, "to": 100000, "records": 100000,
 *                        "file": "partition=0/00000000000000000000-00000000000000100000.parquet"}]}}
 * }</pre>
 *
 * Ranges of a partition are sorted and never overlap. {@code records} can be less than {@code to -
 * from} (offsets of transaction markers or compacted records hold no record).
 */
public final class Manifest implements Serializable {
  static final String FORMAT = "kappa-beam-archive/1";

  /** One archived file: the offsets {@code [from, to)} of a partition. */
  public record Range(int partition, long from, long to, long records, String file)
      implements Serializable {
    public Range {
      if (partition < 0 || from < 0 || to <= from || records < 0 || records > to - from) {
        throw new IllegalArgumentException(
            "invalid archived range: partition "
                + partition
                + " ["
                + from
                + ", "
                + to
                + ") with "
                + records
                + " records");
      }
      Objects.requireNonNull(file, "file");
    }

    boolean covers(Range other) {
      return from <= other.from && other.to <= to;
    }

    boolean overlaps(Range other) {
      return from < other.to && other.from < to;
    }
  }

  private final String topic;
  private final Map<Integer, List<Range>> partitions;

  private Manifest(String topic, Map<Integer, List<Range>> partitions) {
    this.topic = topic;
    TreeMap<Integer, List<Range>> copy = new TreeMap<>();
    partitions.forEach((p, r) -> copy.put(p, List.copyOf(r)));
    this.partitions = Collections.unmodifiableMap(copy);
  }

  /** A topic with nothing archived. */
  public static Manifest empty(String topic) {
    ArchiveLayout.checkTopic(topic);
    return new Manifest(topic, Map.of());
  }

  public String topic() {
    return topic;
  }

  /** The archived ranges, per partition, in offset order. */
  public Map<Integer, List<Range>> partitions() {
    return partitions;
  }

  /** The ranges of one partition, in offset order (empty if none). */
  public List<Range> ranges(int partition) {
    return partitions.getOrDefault(partition, List.of());
  }

  /** The end of the last archived range of a partition, if any. */
  public OptionalLong archivedEnd(int partition) {
    List<Range> r = ranges(partition);
    return r.isEmpty() ? OptionalLong.empty() : OptionalLong.of(r.get(r.size() - 1).to());
  }

  /**
   * This manifest plus {@code added}: an added range that covers archived ones replaces them (a
   * longer file of the same offsets, written by a run that planned further); one that is covered by
   * an archived range adds nothing; one that overlaps an archived range only in part is refused
   * (two archivers planned different files for the same offsets).
   */
  public Manifest with(List<Range> added) {
    Map<Integer, List<Range>> out = new TreeMap<>();
    partitions.forEach((p, r) -> out.put(p, new ArrayList<>(r)));
    for (Range a : added) {
      List<Range> ranges = out.computeIfAbsent(a.partition(), p -> new ArrayList<>());
      if (ranges.stream().anyMatch(r -> r.covers(a))) {
        continue;
      }
      for (Range r : ranges) {
        if (r.overlaps(a) && !a.covers(r)) {
          throw new IllegalStateException(
              "archived range "
                  + describe(r)
                  + " and new range "
                  + describe(a)
                  + " overlap in part: is another archiver writing topic "
                  + topic
                  + " to the same place?");
        }
      }
      ranges.removeIf(a::covers);
      ranges.add(a);
      ranges.sort((x, y) -> Long.compare(x.from(), y.from()));
    }
    return new Manifest(topic, out);
  }

  private static String describe(Range r) {
    return "partition " + r.partition() + " [" + r.from() + ", " + r.to() + ")";
  }

  /** The manifest as JSON. */
  public String toJson() {
    ObjectNode root = JSON.createObjectNode();
    root.put("format", FORMAT);
    root.put("topic", topic);
    ObjectNode parts = root.putObject("partitions");
    partitions.forEach(
        (p, ranges) -> {
          ArrayNode list = parts.putArray(String.valueOf(p));
          for (Range r : ranges) {
            list.addObject()
                .put("from", r.from())
                .put("to", r.to())
                .put("records", r.records())
                .put("file", r.file());
          }
        });
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A manifest from its JSON; refuses another format or topic. */
  public static Manifest fromJson(String json, String topic) {
    try {
      JsonNode root = JSON.readTree(json);
      if (!FORMAT.equals(root.path("format").asText())) {
        throw new IllegalStateException(
            "not a kappa-beam archive manifest (format '"
                + root.path("format").asText()
                + "', expected "
                + FORMAT
                + ")");
      }
      if (!topic.equals(root.path("topic").asText())) {
        throw new IllegalStateException(
            "the manifest is of topic '" + root.path("topic").asText() + "', not " + topic);
      }
      List<Range> ranges = new ArrayList<>();
      root.path("partitions")
          .fields()
          .forEachRemaining(
              e -> {
                int partition = Integer.parseInt(e.getKey());
                for (JsonNode r : e.getValue()) {
                  ranges.add(
                      new Range(
                          partition,
                          r.path("from").asLong(),
                          r.path("to").asLong(),
                          r.path("records").asLong(),
                          r.path("file").asText()));
                }
              });
      return empty(topic).with(ranges);
    } catch (IOException e) {
      throw new IllegalStateException("unreadable archive manifest: " + e.getMessage(), e);
    }
  }

  /** The topic's manifest in {@code layout}, or an empty one when there is none yet. */
  public static Manifest read(ArchiveLayout layout, String topic) throws IOException {
    ResourceId path = layout.manifest(topic);
    MatchResult match = FileSystems.match(path.toString());
    if (match.status() == MatchResult.Status.NOT_FOUND || match.metadata().isEmpty()) {
      return empty(topic);
    }
    try (ReadableByteChannel ch = FileSystems.open(path);
        InputStream in = Channels.newInputStream(ch)) {
      return fromJson(
          new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8), topic);
    }
  }

  /**
   * Writes the manifest to the topic's folder in {@code layout}: to a temporary name first, then
   * renamed over the manifest (atomic on a local file system; an object store's rename is a copy of
   * a complete object), so a reader sees the old manifest or the new one, never a part.
   */
  public void write(ArchiveLayout layout) throws IOException {
    ResourceId target = layout.manifest(topic);
    ResourceId temp =
        layout
            .topic(topic)
            .resolve(
                ".manifest-" + UUID.randomUUID() + ".json.tmp",
                StandardResolveOptions.RESOLVE_FILE);
    try (WritableByteChannel ch = FileSystems.create(temp, "application/json");
        OutputStream out = Channels.newOutputStream(ch)) {
      out.write(toJson().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    FileSystems.rename(List.of(temp), List.of(target));
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public boolean equals(Object o) {
    return o instanceof Manifest m && m.topic.equals(topic) && m.partitions.equals(partitions);
  }

  @Override
  public int hashCode() {
    return Objects.hash(topic, partitions);
  }

  @Override
  public String toString() {
    return toJson();
  }
}
