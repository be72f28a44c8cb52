package dev.kappabeam.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PrometheusTextTest {
  @Test
  void labelValuesAndHelpAreEscapedAndReadBackExactly() {
    PrometheusText p = new PrometheusText();
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put("view", "a\"quoted\" \\path\\ and\nnewline");
    labels.put("version", "v1");
    p.family("kb_test_total", "counter", "Help with \\ and\na newline.").sample(labels, 12);
    String text = p.toString();
    assertEquals(
        "# HELP kb_test_total Help with \\\\ and\\na newline.\n"
            + "# TYPE kb_test_total counter\n"
            + "kb_test_total{view=\"a\\\"quoted\\\" \\\\path\\\\ and\\nnewline\",version=\"v1\"} 12\n",
        text);
    PrometheusParser parsed = PrometheusParser.parse(text);
    assertEquals(12.0, parsed.value("kb_test_total", labels));
    assertEquals("Help with \\ and\na newline.", parsed.help.get("kb_test_total"));
  }

  @Test
  void samplesOfAFamilyStayTogetherWhateverTheOrderTheyAreAdded() {
    PrometheusText p = new PrometheusText();
    p.family("a", "gauge", "A.").sample(Map.of("x", "1"), 1);
    p.family("b", "gauge", "B.").sample(Map.of(), 2.5);
    p.family("a", "gauge", "A.").sample(Map.of("x", "2"), Double.NaN);
    PrometheusParser parsed = PrometheusParser.parse(p.toString());
    assertEquals(3, parsed.samples.size());
    assertEquals(2.5, parsed.value("b", Map.of()));
    assertEquals(Double.NaN, parsed.value("a", Map.of("x", "2")));
  }

  @Test
  void invalidNamesAndTypeClashesAreRefused() {
    PrometheusText p = new PrometheusText();
    assertThrows(IllegalArgumentException.class, () -> p.family("1bad", "gauge", ""));
    p.family("ok", "gauge", "");
    assertThrows(IllegalArgumentException.class, () -> p.family("ok", "counter", ""));
    assertThrows(
        IllegalArgumentException.class,
        () -> p.family("ok", "gauge", "").sample(Map.of("bad-label", "x"), 1));
  }
}
