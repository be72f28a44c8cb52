package dev.kappabeam.serve;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text format (0.0.4) for tests: every sample must belong to the
 * family declared by the {@code # TYPE} line before it, each family is declared once with {@code #
 * HELP} then {@code # TYPE}, label values are unescaped, and a malformed line fails.
 */
final class PrometheusParser {
  record Sample(String name, Map<String, String> labels, double value) {}

  final Map<String, String> types = new LinkedHashMap<>();
  final Map<String, String> help = new LinkedHashMap<>();
  final List<Sample> samples = new ArrayList<>();

  private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
  private static final Pattern SAMPLE =
      Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)\\})? (\\S+)");

  static PrometheusParser parse(String text) {
    PrometheusParser p = new PrometheusParser();
    if (!text.isEmpty() && !text.endsWith("\n")) {
      throw new AssertionError("the exposition must end with a newline");
    }
    String current = null;
    Set<String> seen = new HashSet<>();
    for (String line : text.split("\n", -1)) {
      if (line.isEmpty()) {
        continue;
      }
      if (line.startsWith("# HELP ")) {
        String[] parts = line.substring(7).split(" ", 2);
        if (!NAME.matcher(parts[0]).matches() || !seen.add(parts[0])) {
          throw new AssertionError("bad or repeated HELP: " + line);
        }
        p.help.put(parts[0], unescapeHelp(parts.length > 1 ? parts[1] : ""));
        current = null;
      } else if (line.startsWith("# TYPE ")) {
        String[] parts = line.substring(7).split(" ");
        if (parts.length != 2
            || !p.help.containsKey(parts[0])
            || p.types.containsKey(parts[0])
            || !List.of("counter", "gauge", "untyped", "summary", "histogram").contains(parts[1])) {
          throw new AssertionError("TYPE without its HELP just before, repeated or bad: " + line);
        }
        p.types.put(parts[0], parts[1]);
        current = parts[0];
      } else if (line.startsWith("#")) {
        continue;
      } else {
        Matcher m = SAMPLE.matcher(line);
        if (!m.matches()) {
          throw new AssertionError("malformed sample line: " + line);
        }
        if (!m.group(1).equals(current)) {
          throw new AssertionError("sample outside its family's block: " + line);
        }
        double v;
        String value = m.group(4);
        v =
            value.equals("+Inf")
                ? Double.POSITIVE_INFINITY
                : value.equals("-Inf") ? Double.NEGATIVE_INFINITY : Double.parseDouble(value);
        p.samples.add(new Sample(m.group(1), labels(m.group(3) == null ? "" : m.group(3)), v));
      }
    }
    return p;
  }

  private static Map<String, String> labels(String s) {
    Map<String, String> out = new TreeMap<>();
    int i = 0;
    while (i < s.length()) {
      int eq = s.indexOf('=', i);
      String name = s.substring(i, eq);
      if (!name.matches("[a-zA-Z_][a-zA-Z0-9_]*") || s.charAt(eq + 1) != '"') {
        throw new AssertionError("bad label at " + s.substring(i));
      }
      StringBuilder v = new StringBuilder();
      int j = eq + 2;
      for (; s.charAt(j) != '"'; j++) {
        char c = s.charAt(j);
        if (c == '\\') {
          char n = s.charAt(++j);
          if (n == 'n') {
            v.append('\n');
          } else if (n == '\\' || n == '"') {
            v.append(n);
          } else {
            throw new AssertionError("bad escape \\" + n + " in " + s);
          }
        } else if (c == '\n') {
          throw new AssertionError("raw newline in a label value");
        } else {
          v.append(c);
        }
      }
      if (out.put(name, v.toString()) != null) {
        throw new AssertionError("label " + name + " repeated");
      }
      i = j + 1;
      if (i < s.length()) {
        if (s.charAt(i) != ',') {
          throw new AssertionError("expected , after a label in " + s);
        }
        i++;
      }
    }
    return out;
  }

  private static String unescapeHelp(String s) {
    return s.replace("\\n", "\n").replace("\\\\", "\\");
  }

  /** The value of the one sample with this name and exactly these labels. */
  Double value(String name, Map<String, String> labels) {
    Double found = null;
    for (Sample s : samples) {
      if (s.name().equals(name) && s.labels().equals(new TreeMap<>(labels))) {
        if (found != null) {
          throw new AssertionError("two samples " + name + labels);
        }
        found = s.value();
      }
    }
    return found;
  }
}
