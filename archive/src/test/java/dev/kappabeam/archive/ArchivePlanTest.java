package dev.kappabeam.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ArchivePlanTest {
  @Test
  void filesAreCutAtMultiplesOfTheFileSizeFromWhereTheManifestEnds() {
    Manifest m =
        Manifest.empty("t")
            .with(List.of(new Manifest.Range(0, 0, 130, 130, ArchiveLayout.fileName(0, 0, 130))));
    ArchivePlan plan = ArchivePlan.of(m, Map.of(0, 0L, 1, 0L), Map.of(0, 320L, 1, 50L), 100);
    assertEquals(
        List.of(
            new ArchivePlan.Chunk(0, 130, 200),
            new ArchivePlan.Chunk(0, 200, 300),
            new ArchivePlan.Chunk(0, 300, 320),
            new ArchivePlan.Chunk(1, 0, 50)),
        plan.chunks());
    assertEquals(240, plan.offsets());
    assertEquals(List.of(), plan.warnings());
  }

  @Test
  void offsetsDeletedBeforeTheyWereArchivedAreAGapSaidOnceAndSkipped() {
    ArchivePlan plan = ArchivePlan.of(Manifest.empty("t"), Map.of(0, 40L), Map.of(0, 60L), 100);
    assertEquals(List.of(new ArchivePlan.Chunk(0, 40, 60)), plan.chunks());
    assertEquals(1, plan.warnings().size());
    assertTrue(plan.warnings().get(0).contains("[0, 40)"), plan.warnings().get(0));
  }

  @Test
  void nothingNewIsNothingToDo() {
    Manifest m =
        Manifest.empty("t")
            .with(List.of(new Manifest.Range(0, 0, 60, 58, ArchiveLayout.fileName(0, 0, 60))));
    assertEquals(List.of(), ArchivePlan.of(m, Map.of(0, 0L), Map.of(0, 60L), 100).chunks());
  }
}
