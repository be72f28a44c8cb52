package dev.kappabeam.serve;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A writer of the Prometheus text exposition format (version 0.0.4): each metric family once, with
 * its {@code # HELP} and {@code # TYPE} lines before its samples, label values escaped ({@code \},
 * {@code "} and newline), help text escaped ({@code \} and newline), values as Go-style floats.
 *
 * <pre>{@code
 * PrometheusText p = new PrometheusText();
 * p.family("kb_records_read_total", "counter", "Records read from Kafka by the version's job.")
 *     .sample(Map.of("view", "activity_per_minute", "version", "v2"), 1234);
 * String body = p.toString();   // Content-Type: text/plain; version=0.0.4
 * }</pre>
 */
final class PrometheusText {
  static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
  private static final Pattern LABEL = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");

  private final Map<String, Family> families = new LinkedHashMap<>();

  /** A metric family; asking again for the same name returns the same family. */
  Family family(String name, String type, String help) {
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("invalid metric name " + name);
    }
    if (!List.of("counter", "gauge", "untyped").contains(type)) {
      throw new IllegalArgumentException("unsupported metric type " + type);
    }
    Family f = families.computeIfAbsent(name, n -> new Family(n, type, help));
    if (!f.type.equals(type)) {
      throw new IllegalArgumentException(name + " is a " + f.type + ", not a " + type);
    }
    return f;
  }

  static final class Family {
    final String name;
    final String type;
    final String help;
    final List<String> samples = new ArrayList<>();

    private Family(String name, String type, String help) {
      this.name = name;
      this.type = type;
      this.help = help;
    }

    /** Adds a sample; labels in the map's order. */
    Family sample(Map<String, String> labels, double value) {
      StringBuilder b = new StringBuilder(name);
      if (!labels.isEmpty()) {
        b.append('{');
        boolean first = true;
        for (Map.Entry<String, String> l : labels.entrySet()) {
          if (!LABEL.matcher(l.getKey()).matches() || l.getKey().startsWith("__")) {
            throw new IllegalArgumentException("invalid label name " + l.getKey());
          }
          if (!first) {
            b.append(',');
          }
          first = false;
          b.append(l.getKey())
              .append("=\"")
              .append(escapeLabel(l.getValue() == null ? "" : l.getValue()))
              .append('"');
        }
        b.append('}');
      }
      b.append(' ').append(format(value));
      samples.add(b.toString());
      return this;
    }
  }

  static String escapeLabel(String v) {
    return v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }

  static String escapeHelp(String v) {
    return v.replace("\\", "\\\\").replace("\n", "\\n");
  }

  static String format(double v) {
    if (Double.isNaN(v)) {
      return "NaN";
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "+Inf" : "-Inf";
    }
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return Long.toString((long) v);
    }
    return Double.toString(v);
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder();
    for (Family f : families.values()) {
      b.append("# HELP ").append(f.name).append(' ').append(escapeHelp(f.help)).append('\n');
      b.append("# TYPE ").append(f.name).append(' ').append(f.type).append('\n');
      for (String s : f.samples) {
        b.append(s).append('\n');
      }
    }
    return b.toString();
  }
}
