package dev.kappabeam.generator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.generator.GeneratedRecord.Kind;
import dev.kappabeam.transforms.events.Event;
import dev.kappabeam.transforms.events.EventParser;
import dev.kappabeam.transforms.events.EventType;
import dev.kappabeam.transforms.views.ViewParameters;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WorkloadGeneratorTest {
  /** 10k records with every kind switched on. */
  private static final WorkloadGenerator TEN_K =
      WorkloadGenerator.seeded(20261125L)
          .withCount(10_000)
          .withOutOfOrderFraction(0.05)
          .withLateFraction(0.03)
          .withTooLateFraction(0.01)
          .withDuplicateFraction(0.02)
          .withMalformedFraction(0.02);

  private static final List<GeneratedRecord> RECORDS = TEN_K.generate();

  private static String text(GeneratedRecord r) {
    byte[] v = r.value();
    return v == null ? "" : new String(v, StandardCharsets.UTF_8);
  }

  @Test
  void eventIdPrefixGivesDisjointIdsAndTheSameRecordsOtherwise() {
    List<GeneratedRecord> fixed = WorkloadGenerator.seeded(7).withCount(500).generate();
    List<GeneratedRecord> prefixed =
        WorkloadGenerator.seeded(7).withCount(500).withEventIdPrefix("run-b-").generate();
    Set<String> fixedIds = new HashSet<>();
    for (GeneratedRecord r : fixed) {
      if (r.eventId() != null) {
        assertTrue(r.eventId().matches("e-\\d{8}"), r.eventId());
        fixedIds.add(r.eventId());
      }
    }
    assertEquals(fixed.size(), prefixed.size());
    for (int i = 0; i < fixed.size(); i++) {
      GeneratedRecord a = fixed.get(i);
      GeneratedRecord b = prefixed.get(i);
      assertEquals(a.kind(), b.kind());
      if (a.eventId() != null) {
        assertEquals("run-b-" + a.eventId().substring(2), b.eventId());
        assertFalse(fixedIds.contains(b.eventId()));
      }
    }
    assertThrows(
        IllegalArgumentException.class,
        () -> WorkloadGenerator.seeded(1).withEventIdPrefix("e\"; DROP"));
    assertThrows(
        IllegalArgumentException.class, () -> WorkloadGenerator.seeded(1).withEventIdPrefix(""));
  }

  @Test
  void sameSettingsGiveByteIdenticalRecords() {
    List<GeneratedRecord> again = TEN_K.generate();
    assertEquals(RECORDS.size(), again.size());
    for (int i = 0; i < RECORDS.size(); i++) {
      assertArrayEquals(RECORDS.get(i).value(), again.get(i).value(), "value at " + i);
      assertArrayEquals(RECORDS.get(i).key(), again.get(i).key(), "key at " + i);
      assertEquals(RECORDS.get(i), again.get(i));
    }
  }

  @Test
  void differentSeedGivesDifferentRecords() {
    List<GeneratedRecord> other = TEN_K.withSeed(7).generate();
    long differing = 0;
    for (int i = 0; i < RECORDS.size(); i++) {
      if (!Arrays.equals(RECORDS.get(i).value(), other.get(i).value())) {
        differing++;
      }
    }
    assertTrue(differing > RECORDS.size() * 0.9, "only " + differing + " records differ");
  }

  @Test
  void settersReturnCopiesAndLeaveTheOriginalUnchanged() {
    WorkloadGenerator base = WorkloadGenerator.seeded(1);
    WorkloadGenerator changed = base.withCount(5).withUsers(3).withLateFraction(0.5);
    assertEquals(1000, base.count());
    assertEquals(200, base.users());
    assertEquals(0.0, base.lateFraction());
    assertEquals(5, changed.count());
    assertEquals(3, changed.users());
    assertEquals(0.5, changed.lateFraction());
    assertEquals(5, changed.generate().size());
  }

  @Test
  void fractionsAreRoughlyHonouredOnTenThousandRecords() {
    GenerationSummary sum = GenerationSummary.of(RECORDS);
    assertEquals(10_000, sum.total());
    assertWithin(0.02, sum.fraction(Kind.MALFORMED), 0.005);
    assertWithin(0.02, sum.fraction(Kind.DUPLICATE), 0.005);
    assertWithin(0.05, sum.fraction(Kind.OUT_OF_ORDER), 0.008);
    assertWithin(0.03, sum.fraction(Kind.LATE), 0.006);
    assertWithin(0.01, sum.fraction(Kind.TOO_LATE), 0.004);
    assertWithin(0.87, sum.fraction(Kind.VALID), 0.015);
  }

  @Test
  void defaultsProduceNoLateRecords() {
    GenerationSummary sum = GenerationSummary.of(WorkloadGenerator.seeded(3).generate());
    assertEquals(1000, sum.total());
    assertEquals(0, sum.count(Kind.LATE));
    assertEquals(0, sum.count(Kind.TOO_LATE));
    assertTrue(sum.count(Kind.OUT_OF_ORDER) > 0);
    assertTrue(sum.count(Kind.DUPLICATE) > 0);
    assertTrue(sum.count(Kind.MALFORMED) > 0);
  }

  @Test
  void typeMixIsRoughlySixtyTwentyFiveTenFive() {
    Map<EventType, Integer> types = new EnumMap<>(EventType.class);
    int events = 0;
    for (GeneratedRecord r : RECORDS) {
      if (r.kind().isOriginalEvent()) {
        types.merge(EventParser.parse(r.value()).event().type(), 1, Integer::sum);
        events++;
      }
    }
    assertWithin(0.60, types.get(EventType.VIEW) / (double) events, 0.02);
    assertWithin(0.25, types.get(EventType.CLICK) / (double) events, 0.02);
    assertWithin(0.10, types.get(EventType.CART) / (double) events, 0.015);
    assertWithin(0.05, types.get(EventType.PURCHASE) / (double) events, 0.01);
  }

  @Test
  void everyMalformedKindAppearsInTenThousandRecords() {
    GenerationSummary sum = GenerationSummary.of(RECORDS);
    for (MalformedKind m : MalformedKind.values()) {
      assertTrue(sum.count(m) > 0, m + " never produced");
    }
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 42, 20261125})
  void parserRejectsEachMalformedRecordWithItsExpectedErrorAndAcceptsTheRest(long seed) {
    // Mostly malformed, so every kind and its random variants (bytes, cut points) occur often.
    List<GeneratedRecord> records =
        WorkloadGenerator.seeded(seed)
            .withCount(3000)
            .withMalformedFraction(0.7)
            .withLateFraction(0.05)
            .withTooLateFraction(0.05)
            .generate();
    records = concat(records, RECORDS);
    for (GeneratedRecord r : records) {
      EventParser.Result parsed = EventParser.parse(r.value());
      if (r.kind() == Kind.MALFORMED) {
        assertFalse(parsed.isValid(), () -> "accepted " + r);
        assertEquals(r.expectedError(), parsed.error(), () -> r + " -> " + parsed);
        assertNull(r.eventId());
      } else {
        assertTrue(parsed.isValid(), () -> r + " -> " + parsed);
        Event e = parsed.event();
        assertEquals(r.eventId(), e.eventId());
        assertEquals(r.eventTimeMillis(), e.timestampMillis(), r::toString);
        assertArrayEquals(e.userId().getBytes(StandardCharsets.UTF_8), r.key(), r::toString);
        assertNull(r.expectedError());
      }
    }
  }

  @Test
  void duplicatesAreByteIdenticalCopiesOfARecentEarlierEvent() {
    Map<String, Integer> positionOfOriginal = new HashMap<>();
    Set<String> duplicated = new HashSet<>();
    int duplicates = 0;
    for (int i = 0; i < RECORDS.size(); i++) {
      GeneratedRecord r = RECORDS.get(i);
      if (r.kind().isOriginalEvent()) {
        assertNull(positionOfOriginal.put(r.eventId(), i), "event_id reused: " + r.eventId());
      } else if (r.kind() == Kind.DUPLICATE) {
        duplicates++;
        Integer at = positionOfOriginal.get(r.eventId());
        assertNotNull(at, "duplicate of nothing earlier: " + r);
        GeneratedRecord original = RECORDS.get(at);
        assertTrue(
            Set.of(Kind.VALID, Kind.OUT_OF_ORDER, Kind.LATE).contains(original.kind()),
            "duplicate of a " + original.kind());
        assertArrayEquals(original.value(), r.value());
        assertArrayEquals(original.key(), r.key());
        assertEquals(original.eventTimeMillis(), r.eventTimeMillis());
        int distance = i - at;
        assertTrue(
            distance >= 1 && distance <= WorkloadGenerator.DUPLICATE_DISTANCE,
            "distance " + distance);
        assertTrue(duplicated.add(r.eventId()), "re-sent twice: " + r.eventId());
      }
    }
    assertTrue(duplicates > 0);
  }

  @Test
  void displacementsStayWithinTheirConfiguredBounds() {
    Duration maxOoo = Duration.ofSeconds(2);
    Duration lateMin = Duration.ofSeconds(30);
    Duration lateMax = Duration.ofMinutes(5);
    Duration tooLateMin = Duration.ofMinutes(90);
    Duration tooLateMax = Duration.ofHours(4);
    List<GeneratedRecord> records =
        TEN_K
            .withMaxOutOfOrderness(maxOoo)
            .withLateRange(lateMin, lateMax)
            .withTooLateRange(tooLateMin, tooLateMax)
            .generate();
    long newest = Long.MIN_VALUE;
    Map<Kind, Long> largest = new EnumMap<>(Kind.class);
    for (GeneratedRecord r : records) {
      if (!r.kind().isOriginalEvent()) {
        continue;
      }
      long ts = r.eventTimeMillis();
      long behind = newest - ts;
      switch (r.kind()) {
        case VALID:
          assertTrue(ts >= newest, "valid event out of order: " + r);
          newest = ts;
          break;
        case OUT_OF_ORDER:
          assertTrue(behind >= 1 && behind <= maxOoo.toMillis(), "out of order by " + behind);
          break;
        case LATE:
          assertTrue(
              behind > lateMin.toMillis() && behind <= lateMax.toMillis(), "late by " + behind);
          break;
        case TOO_LATE:
          assertTrue(
              behind >= tooLateMin.toMillis() && behind <= tooLateMax.toMillis(),
              "too late by " + behind);
          break;
        default:
          throw new AssertionError(r.kind());
      }
      if (r.kind() != Kind.VALID) {
        largest.merge(r.kind(), behind, Math::max);
      }
    }
    // The ranges are used, not just respected.
    assertTrue(largest.get(Kind.OUT_OF_ORDER) > maxOoo.toMillis() * 0.9);
    assertTrue(largest.get(Kind.LATE) > lateMax.toMillis() * 0.9);
  }

  @Test
  void noRecordIsLateDuringTheWarmUp() {
    WorkloadGenerator lateHeavy =
        WorkloadGenerator.seeded(8).withCount(400).withLateFraction(0.3).withTooLateFraction(0.3);
    List<GeneratedRecord> records = lateHeavy.generate();
    for (int i = 0; i < WorkloadGenerator.DEFAULT_LATE_WARM_UP; i++) {
      Kind kind = records.get(i).kind();
      assertTrue(kind != Kind.LATE && kind != Kind.TOO_LATE, "record " + i + " is " + kind);
    }
    GenerationSummary all = GenerationSummary.of(records);
    assertTrue(all.count(Kind.LATE) > 50 && all.count(Kind.TOO_LATE) > 50, all::toString);

    GenerationSummary noWarmUp =
        GenerationSummary.of(
            lateHeavy
                .withLateWarmUp(0)
                .withCount(WorkloadGenerator.DEFAULT_LATE_WARM_UP)
                .generate());
    assertTrue(noWarmUp.count(Kind.LATE) + noWarmUp.count(Kind.TOO_LATE) > 20, noWarmUp::toString);
  }

  @Test
  void eventTimeAdvancesAtTheConfiguredRate() {
    List<GeneratedRecord> records =
        WorkloadGenerator.seeded(5).withCount(20_000).withEventsPerSecond(200).generate();
    long first = records.get(0).eventTimeMillis();
    long newest = records.stream().mapToLong(GeneratedRecord::eventTimeMillis).max().orElseThrow();
    assertWithin(100_000, newest - first, 3_000);
    assertWithin(
        WorkloadGenerator.DEFAULT_START.toEpochMilli(), records.get(0).eventTimeMillis(), 20);
    Instant start = Instant.parse("1999-12-31T23:59:00Z");
    assertTrue(
        WorkloadGenerator.seeded(5).withStart(start).generate().get(0).eventTimeMillis()
            < start.toEpochMilli() + 100);
  }

  @Test
  void recordsVaryInTimestampFormatFieldOrderAndExtraFields() {
    Pattern isoUtc =
        Pattern.compile("\"ts\":\"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\"");
    Pattern isoOffset =
        Pattern.compile(
            "\"ts\":\"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}[+-]\\d\\d:\\d\\d\"");
    Pattern epoch = Pattern.compile("\"ts\":\\d{13}[,}]");
    int utc = 0;
    int offset = 0;
    int millis = 0;
    int reordered = 0;
    int extra = 0;
    int events = 0;
    for (GeneratedRecord r : RECORDS) {
      if (!r.kind().isOriginalEvent()) {
        continue;
      }
      events++;
      String json = text(r);
      utc += isoUtc.matcher(json).find() ? 1 : 0;
      offset += isoOffset.matcher(json).find() ? 1 : 0;
      millis += epoch.matcher(json).find() ? 1 : 0;
      reordered += json.startsWith("{\"event_id\"") ? 0 : 1;
      extra += json.contains("\"schema_version\"") || json.contains("\"meta\"") ? 1 : 0;
    }
    assertEquals(events, utc + offset + millis);
    assertWithin(0.85, utc / (double) events, 0.02);
    assertWithin(0.10, offset / (double) events, 0.015);
    assertWithin(0.05, millis / (double) events, 0.01);
    assertTrue(reordered > events * 0.1, "reordered " + reordered);
    assertTrue(extra > events * 0.01, "extra fields in " + extra);
  }

  @Test
  void purchasesCarryItemAndAmountAndOtherTypesSometimesDo() {
    int otherWithItem = 0;
    int otherWithAmount = 0;
    int others = 0;
    for (GeneratedRecord r : RECORDS) {
      if (!r.kind().isOriginalEvent()) {
        continue;
      }
      Event e = EventParser.parse(r.value()).event();
      if (e.isPurchase()) {
        assertNotNull(e.item());
        assertNotNull(e.amountCents());
        assertTrue(e.amountCents() >= 100 && e.amountCents() <= 50_000, e::toString);
      } else {
        others++;
        otherWithItem += e.item() == null ? 0 : 1;
        otherWithAmount += e.amountCents() == null ? 0 : 1;
      }
    }
    assertWithin(0.5, otherWithItem / (double) others, 0.03);
    assertWithin(0.05, otherWithAmount / (double) others, 0.01);
  }

  @Test
  void usersAreSkewedAndSomeIdsAreNonAscii() {
    Map<String, Integer> perUser = new HashMap<>();
    Set<String> items = new HashSet<>();
    int nonAsciiUserEvents = 0;
    int events = 0;
    for (GeneratedRecord r : RECORDS) {
      if (!r.kind().isOriginalEvent()) {
        continue;
      }
      Event e = EventParser.parse(r.value()).event();
      events++;
      perUser.merge(e.userId(), 1, Integer::sum);
      if (e.item() != null) {
        items.add(e.item());
      }
      if (!isAscii(e.userId())) {
        nonAsciiUserEvents++;
      }
    }
    assertTrue(perUser.size() <= 200);
    assertTrue(perUser.get("u-1") > 10 * perUser.getOrDefault("u-100", 1), perUser::toString);
    assertTrue(perUser.containsKey("u-Zoë-7"));
    assertTrue(items.contains("sku-日本-3"));
    assertTrue(nonAsciiUserEvents > events * 0.01, "non-ASCII user events " + nonAsciiUserEvents);
    long nonAsciiIds =
        java.util.stream.IntStream.rangeClosed(1, 200)
            .mapToObj(WorkloadGenerator::userId)
            .filter(u -> !isAscii(u))
            .count();
    assertEquals(4, nonAsciiIds);
  }

  @Test
  void onlyMalformedRecordsMayHaveNoKeyOrValue() {
    int nullKeys = 0;
    for (GeneratedRecord r : RECORDS) {
      if (r.kind() != Kind.MALFORMED) {
        assertNotNull(r.key());
        assertNotNull(r.value());
      } else if (r.key() == null) {
        nullKeys++;
      }
    }
    assertTrue(nullKeys > 0);
  }

  @Test
  void summaryPredictsTheOracleCounters() {
    GenerationSummary sum = GenerationSummary.of(RECORDS);
    Oracle.Result oracle = Oracle.computeFromRecords(RECORDS, ViewParameters.defaults());
    assertEquals(sum.total(), oracle.read());
    assertEquals(sum.expectedDeadLettered(), oracle.deadLettered());
    assertEquals(sum.expectedDuplicates(), oracle.duplicates());
    assertEquals(sum.expectedAccepted(), oracle.accepted());
  }

  @Test
  void invalidSettingsAreRejectedWithAMessage() {
    WorkloadGenerator g = WorkloadGenerator.seeded(1);
    assertThrows(IllegalArgumentException.class, () -> g.withCount(-1));
    assertThrows(IllegalArgumentException.class, () -> g.withUsers(0));
    assertThrows(IllegalArgumentException.class, () -> g.withItems(0));
    assertThrows(IllegalArgumentException.class, () -> g.withEventsPerSecond(0));
    assertThrows(IllegalArgumentException.class, () -> g.withMalformedFraction(1.5));
    assertThrows(IllegalArgumentException.class, () -> g.withDuplicateFraction(-0.1));
    assertThrows(IllegalArgumentException.class, () -> g.withLateFraction(Double.NaN));
    assertThrows(IllegalArgumentException.class, () -> g.withMaxOutOfOrderness(Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> g.withLateWarmUp(-1));
    assertThrows(
        IllegalArgumentException.class,
        () -> g.withLateRange(Duration.ofMinutes(5), Duration.ofMinutes(5)));
    assertThrows(
        IllegalArgumentException.class,
        () -> g.withTooLateRange(Duration.ofHours(-1), Duration.ofHours(3)));
    IllegalArgumentException tooMuch =
        assertThrows(
            IllegalArgumentException.class,
            () -> g.withMalformedFraction(0.6).withDuplicateFraction(0.6).generate());
    assertTrue(tooMuch.getMessage().contains("at most 1"), tooMuch.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> g.withStart(Instant.parse("0001-01-01T00:00:00Z")).generate());
  }

  @Test
  void emptyAndAllMalformedWorkloadsWork() {
    assertEquals(List.of(), WorkloadGenerator.seeded(1).withCount(0).generate());
    List<GeneratedRecord> bad =
        WorkloadGenerator.seeded(1)
            .withCount(MalformedKind.values().length)
            .withOutOfOrderFraction(0)
            .withDuplicateFraction(0)
            .withMalformedFraction(1)
            .generate();
    GenerationSummary sum = GenerationSummary.of(bad);
    for (MalformedKind m : MalformedKind.values()) {
      assertEquals(1, sum.count(m), m::toString);
    }
  }

  private static boolean isAscii(String s) {
    return s.chars().allMatch(c -> c < 0x80);
  }

  private static List<GeneratedRecord> concat(List<GeneratedRecord> a, List<GeneratedRecord> b) {
    List<GeneratedRecord> out = new java.util.ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  private static void assertWithin(double expected, double actual, double tolerance) {
    assertTrue(
        Math.abs(expected - actual) <= tolerance,
        () -> "expected " + expected + " +- " + tolerance + ", got " + actual);
  }
}
