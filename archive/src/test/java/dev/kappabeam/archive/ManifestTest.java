package dev.kappabeam.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ManifestTest {
  /** A complete file of offsets {@code [from, to)} of partition {@code p}. */
  static Manifest.Range range(int p, long from, long to) {
    return new Manifest.Range(p, from, to, to - from, ArchiveLayout.fileName(p, from, to));
  }

  @Test
  void rangesAreKeptInOrderAndTheEndIsTheLastRangesEnd() {
    Manifest m =
        Manifest.empty("events")
            .with(List.of(range(0, 100, 200), range(0, 0, 100), range(1, 0, 5)));
    assertEquals(List.of(range(0, 0, 100), range(0, 100, 200)), m.ranges(0));
    assertEquals(OptionalLong.of(200), m.archivedEnd(0));
    assertEquals(OptionalLong.empty(), m.archivedEnd(2));
  }

  @Test
  void aRangeThatCoversArchivedOnesReplacesThemAndACoveredOneAddsNothing() {
    Manifest m = Manifest.empty("events").with(List.of(range(0, 0, 100), range(0, 100, 150)));
    Manifest longer = m.with(List.of(range(0, 100, 200)));
    assertEquals(List.of(range(0, 0, 100), range(0, 100, 200)), longer.ranges(0));
    assertEquals(longer, longer.with(List.of(range(0, 100, 150))));
  }

  @Test
  void rangesThatOverlapInPartAreRefused() {
    Manifest m = Manifest.empty("events").with(List.of(range(0, 0, 100)));
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> m.with(List.of(range(0, 50, 150))));
    assertTrue(e.getMessage().contains("overlap in part"), e.getMessage());
  }

  @Test
  void jsonRoundTripsAndRefusesAnotherTopicOrFormat() {
    Manifest m = Manifest.empty("events").with(List.of(range(0, 0, 100), range(3, 7, 9)));
    assertEquals(m, Manifest.fromJson(m.toJson(), "events"));
    assertTrue(m.toJson().contains("\"format\" : \"kappa-beam-archive/1\""), m.toJson());
    assertThrows(IllegalStateException.class, () -> Manifest.fromJson(m.toJson(), "orders"));
    assertThrows(
        IllegalStateException.class,
        () -> Manifest.fromJson("{\"format\":\"x\",\"topic\":\"events\"}", "events"));
  }

  @Test
  void writingReplacesTheManifestWholeAndLeavesNoTemporaryFile(@TempDir Path dir) throws Exception {
    ArchiveLayout layout = ArchiveLayout.at(dir.toString());
    assertEquals(Manifest.empty("events"), Manifest.read(layout, "events"));
    Manifest first = Manifest.empty("events").with(List.of(range(0, 0, 100)));
    first.write(layout);
    Manifest second = first.with(List.of(range(0, 100, 200)));
    second.write(layout);
    assertEquals(second, Manifest.read(layout, "events"));
    try (Stream<Path> files = Files.list(dir.resolve("events"))) {
      assertEquals(List.of("manifest.json"), files.map(f -> f.getFileName().toString()).toList());
    }
  }

  @Test
  void topicNamesAreKafkasAndCannotLeaveTheArchive() {
    for (String bad : List.of("", "..", "a/b", "a b", "x".repeat(250))) {
      assertThrows(IllegalArgumentException.class, () -> Manifest.empty(bad), bad);
    }
  }
}
