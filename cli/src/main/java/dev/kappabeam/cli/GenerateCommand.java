package dev.kappabeam.cli;

import dev.kappabeam.generator.GeneratedRecord;
import dev.kappabeam.generator.GenerationSummary;
import dev.kappabeam.generator.Oracle;
import dev.kappabeam.generator.WorkloadGenerator;
import dev.kappabeam.pipelines.kafka.KafkaOffsets;
import dev.kappabeam.serving.ExportFormat;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.Views;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code kb generate}: the reference workload into a topic, reproducibly from a seed, with the
 * chosen fractions of out-of-order, late, too-late, duplicate and malformed records; optionally
 * writes the oracle's expected views and counts.
 */
@Command(
    name = "generate",
    description = "Produce the reference workload (key = user_id) to a topic.",
    mixinStandardHelpOptions = true)
final class GenerateCommand implements Runnable {
  @Mixin Connections connections;

  @Option(names = "--topic", required = true, description = "Target topic.")
  String topic;

  @Option(
      names = "--count",
      defaultValue = "10000",
      description = "Records to produce, bad ones included (default ${DEFAULT-VALUE}).")
  int count;

  @Option(
      names = "--rate",
      defaultValue = "0",
      description = "Records per second of wall time; 0 = as fast as possible (default).")
  double rate;

  @Option(
      names = "--seed",
      defaultValue = "1",
      description = "Random seed (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--users",
      defaultValue = "200",
      description = "Distinct users (default ${DEFAULT-VALUE}).")
  int users;

  @Option(
      names = "--items",
      defaultValue = "50",
      description = "Distinct items (default ${DEFAULT-VALUE}).")
  int items;

  @Option(
      names = "--start",
      description = "Event time of the first event, ISO-8601 (default 2026-11-25T10:00:00Z).")
  Instant start;

  @Option(
      names = "--events-per-second",
      defaultValue = "50",
      description = "Event-time density (default ${DEFAULT-VALUE}).")
  double eventsPerSecond;

  @Option(
      names = "--out-of-order",
      defaultValue = "0.05",
      description = "Fraction displaced back within 5 s (default ${DEFAULT-VALUE}).")
  double outOfOrder;

  @Option(
      names = "--late",
      defaultValue = "0.0",
      description = "Fraction late but within the allowed lateness (default ${DEFAULT-VALUE}).")
  double late;

  @Option(
      names = "--too-late",
      defaultValue = "0.0",
      description = "Fraction later than the allowed lateness (default ${DEFAULT-VALUE}).")
  double tooLate;

  @Option(
      names = "--duplicates",
      defaultValue = "0.02",
      description = "Fraction of exact re-sends (default ${DEFAULT-VALUE}).")
  double duplicates;

  @Option(
      names = "--malformed",
      defaultValue = "0.02",
      description = "Fraction of malformed or invalid records (default ${DEFAULT-VALUE}).")
  double malformed;

  @Option(
      names = "--id-prefix",
      paramLabel = "PREFIX",
      description = {
        "event_id prefix (ids are PREFIX00000001, ...). Default: e-<run tag>-, new for every run,",
        "so a second run adds new events instead of conflicting copies of the first run's.",
        "--id-prefix e- gives the fixed ids of earlier releases (same seed, same records)."
      })
  String idPrefix;

  @Option(
      names = "--expected-dir",
      description = "Also write the oracle's views (<view>.jsonl) and counts.txt here.")
  Path expectedDir;

  @Override
  public void run() {
    WorkloadGenerator g =
        WorkloadGenerator.seeded(seed)
            .withCount(count)
            .withUsers(users)
            .withItems(items)
            .withEventsPerSecond(eventsPerSecond)
            .withOutOfOrderFraction(outOfOrder)
            .withLateFraction(late)
            .withTooLateFraction(tooLate)
            .withDuplicateFraction(duplicates)
            .withMalformedFraction(malformed)
            .withEventIdPrefix(idPrefix != null ? idPrefix : runPrefix(Instant.now()));
    if (start != null) {
      g = g.withStart(start);
    }
    List<GeneratedRecord> records = g.generate();
    long t0 = System.nanoTime();
    produce(records, t0);
    GenerationSummary summary = GenerationSummary.of(records);
    System.out.printf(
        "produced %,d records to %s in %.1f s (seed %d): %s%n",
        records.size(), topic, (System.nanoTime() - t0) / 1e9, seed, summary.byKind());
    System.err.println(
        "kb: event ids "
            + (records.isEmpty() ? "-" : firstEventId(records))
            + " ... (--id-prefix sets their prefix)");
    if (expectedDir != null) {
      writeExpected(records);
    }
  }

  /**
   * Sends {@code records} in order, at {@code --rate} from {@code t0} if set, and waits for them.
   */
  private void produce(List<GeneratedRecord> records, long t0) {
    try (KafkaOffsets kafka = new KafkaOffsets(connections.kafka())) {
      kafka.partitions(topic);
    }
    long lastReport = t0;
    try (KafkaProducer<byte[], byte[]> producer = Producers.create(connections.kafka())) {
      Future<RecordMetadata> last = null;
      for (int i = 0; i < records.size(); i++) {
        GeneratedRecord r = records.get(i);
        last = producer.send(new ProducerRecord<>(topic, r.key(), r.value()));
        if (rate > 0) {
          long due = t0 + (long) (i / rate * 1e9);
          long wait = due - System.nanoTime();
          if (wait > 0) {
            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
          }
        }
        long now = System.nanoTime();
        if (now - lastReport > 2_000_000_000L) {
          System.err.printf("kb: produced %,d / %,d%n", i + 1, records.size());
          lastReport = now;
        }
      }
      producer.flush();
      if (last != null) {
        last.get();
      }
    } catch (ExecutionException e) {
      throw new CliException(
          ExitCodes.ENVIRONMENT,
          "producing to " + topic + " failed: " + e.getCause().getMessage(),
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException(ExitCodes.ENVIRONMENT, "interrupted", e);
    }
  }

  private static String firstEventId(List<GeneratedRecord> records) {
    return records.stream()
        .map(GeneratedRecord::eventId)
        .filter(java.util.Objects::nonNull)
        .findFirst()
        .orElse("-");
  }

  /**
   * {@code e-<run tag>-}: the tag is the launch time in base 36 (milliseconds) and two random
   * base-36 digits, so runs never share a prefix and their ids sort by launch.
   */
  static String runPrefix(Instant now) {
    int salt = java.util.concurrent.ThreadLocalRandom.current().nextInt(36 * 36);
    String tail = Integer.toString(salt + 36 * 36, 36).substring(1);
    return "e-" + Long.toString(now.toEpochMilli(), 36) + tail + "-";
  }

  private void writeExpected(List<GeneratedRecord> records) {
    Oracle.Result expected = Oracle.computeFromRecords(records, ViewParameters.defaults());
    try {
      Files.createDirectories(expectedDir);
      for (ViewDefinition v : Views.all()) {
        try (Writer w =
            Files.newBufferedWriter(
                expectedDir.resolve(v.name() + ".jsonl"), StandardCharsets.UTF_8)) {
          ExportFormat.parse("jsonl").write(v, expected.rows(v), w);
        }
      }
      Files.writeString(
          expectedDir.resolve("counts.txt"),
          "read="
              + expected.read()
              + "\nparsed="
              + expected.parsed()
              + "\ndead_lettered="
              + expected.deadLettered()
              + "\nduplicates_removed="
              + expected.duplicates()
              + "\naccepted="
              + expected.accepted()
              + "\n");
    } catch (IOException e) {
      throw new CliException(
          ExitCodes.ENVIRONMENT, "cannot write " + expectedDir + ": " + e.getMessage(), e);
    }
    System.out.println("expected views (bounded semantics) written to " + expectedDir);
  }
}
