package dev.kappabeam.serving;

import static dev.kappabeam.serving.TestRows.T0;
import static dev.kappabeam.serving.TestRows.item;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.transforms.views.Views;
import java.io.StringWriter;
import java.util.List;
import org.apache.beam.sdk.values.Row;
import org.junit.jupiter.api.Test;

class ExportFormatTest {
  private static String write(ExportFormat f, List<Row> rows) {
    StringWriter out = new StringWriter();
    f.write(Views.ITEM_REVENUE_HOURLY, rows, out);
    return out.toString();
  }

  @Test
  void parseAcceptsTheLowerCaseNamesAndListsThemOnError() {
    assertEquals(ExportFormat.CSV, ExportFormat.parse("csv"));
    assertEquals(ExportFormat.JSONL, ExportFormat.parse("JSONL"));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ExportFormat.parse("json"));
    assertEquals("unknown export format 'json'; use one of: csv, jsonl", e.getMessage());
  }

  @Test
  void csvQuotesOnlyFieldsThatNeedItAndDoublesQuotes() {
    assertEquals(
        "window_start,item,purchases,revenue_cents\r\n"
            + "2026-11-25T10:00:00.000Z,plain text,1,1\r\n"
            + "2026-11-25T10:00:00.000Z,\"a,b\",1,1\r\n"
            + "2026-11-25T10:00:00.000Z,\"say \"\"hi\"\"\",1,1\r\n"
            + "2026-11-25T10:00:00.000Z,\"cr\rlf\r\n\",1,1\r\n"
            + "2026-11-25T10:00:00.000Z,,1,1\r\n",
        write(
            ExportFormat.CSV,
            List.of(
                item(T0, "plain text", 1, 1),
                item(T0, "a,b", 1, 1),
                item(T0, "say \"hi\"", 1, 1),
                item(T0, "cr\rlf\r\n", 1, 1),
                item(T0, "", 1, 1))));
  }

  @Test
  void emptyViewExportsAHeaderOnlyCsvAndAnEmptyJsonl() {
    assertEquals(
        "window_start,item,purchases,revenue_cents\r\n", write(ExportFormat.CSV, List.of()));
    assertEquals("", write(ExportFormat.JSONL, List.of()));
  }

  @Test
  void jsonlEscapesControlCharactersAndKeepsNonAsciiAsIs() {
    String line = write(ExportFormat.JSONL, List.of(item(T0, "tab\there, ü 😀 \u0001", 1, 2)));
    assertEquals(
        "{\"window_start\":\"2026-11-25T10:00:00.000Z\",\"item\":\"tab\\there, ü 😀 \\u0001\","
            + "\"purchases\":1,\"revenue_cents\":2}\n",
        line);
    assertTrue(line.endsWith("}\n"));
  }
}
