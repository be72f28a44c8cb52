package dev.kappabeam.cli;

import dev.kappabeam.archive.ArchiveLayout;
import dev.kappabeam.archive.ArchivePlan;
import dev.kappabeam.archive.ArchiveRun;
import dev.kappabeam.archive.ArchiveStatus;
import dev.kappabeam.archive.Manifest;
import dev.kappabeam.pipelines.runner.RunnerSupports;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Unmatched;

/**
 * {@code kb archive --topic T --to URI}: copies the topic's records up to its end offsets now,
 * unchanged, into Parquet files under URI with a manifest of the archived ranges (module {@code
 * archive/}); {@code kb archive status --to URI [--topic T]}: per partition, what the archive and
 * Kafka hold and the gaps.
 */
@Command(
    name = "archive",
    description =
        "Copy a topic's records, unchanged, into Parquet files under a folder or bucket, with a"
            + " manifest of the archived offset ranges (run again to archive what is new)."
            + " Unknown --flags are passed to Beam (e.g. --runner=FlinkRunner).",
    subcommands = {ArchiveCommand.Status.class})
final class ArchiveCommand implements Runnable {
  @Mixin HelpOption help;
  @Mixin Connections connections;

  // Required, checked in run(): picocli would also require them of `kb archive status`.
  @Option(names = "--topic", description = "The topic to archive (required).")
  String topic;

  @Option(
      names = "--to",
      paramLabel = "URI",
      description = "Where (required): a folder, s3://bucket/prefix or gs://bucket/prefix.")
  String to;

  @Option(
      names = "--file-records",
      defaultValue = "1000000",
      description =
          "Offsets per Parquet file (files are cut at multiples of it; default ${DEFAULT-VALUE}).")
  long fileRecords;

  @Unmatched List<String> beamArgs = new ArrayList<>();

  @Override
  public void run() {
    for (String a : beamArgs) {
      if (!a.startsWith("--")) {
        throw new IllegalArgumentException(
            "unexpected argument '" + a + "'; see kb archive --help");
      }
    }
    if (topic == null || to == null) {
      throw new IllegalArgumentException(
          "kb archive needs --topic and --to (or: kb archive status --to URI)");
    }
    if (fileRecords <= 0) {
      throw new IllegalArgumentException("--file-records must be positive, got " + fileRecords);
    }
    ArchiveLayout layout = ArchiveLayout.at(to);
    PipelineOptions options = options(beamArgs, connections);
    try {
      ArchiveRun.Result r =
          ArchiveRun.run(
              options, connections.kafka(), layout, topic, fileRecords, System.err::println);
      ArchivePlan plan = r.plan();
      System.out.println(
          "archived: " + topic + " files=" + plan.chunks().size() + " offsets=" + plan.offsets());
      printStatus(r.manifest());
    } catch (IOException e) {
      throw new CliException(
          ExitCodes.ENVIRONMENT, "cannot write the archive at " + to + ": " + e.getMessage(), e);
    }
  }

  /** The Beam flags given, DirectRunner by default, with the runner's defaults for a batch job. */
  static PipelineOptions options(List<String> beamArgs, Connections connections) {
    List<String> args = new ArrayList<>(beamArgs);
    if (args.stream().noneMatch(a -> a.startsWith("--runner"))) {
      args.add("--runner=DirectRunner");
    }
    PipelineOptions o =
        PipelineOptionsFactory.fromArgs(
                RunnerSupports.withDefaults(args, Optional.of(connections.dataDir()))
                    .toArray(new String[0]))
            .create();
    o.setJobName("kb-archive");
    return o;
  }

  private void printStatus(Manifest manifest) {
    System.out.println(ArchiveStatus.HEADER);
    printLines(connections, manifest);
  }

  /** One status line per partition of the manifest's topic, with Kafka's offsets now. */
  static void printLines(Connections connections, Manifest manifest) {
    ArchiveRun.LogOffsets log = ArchiveRun.LogOffsets.of(connections.kafka(), manifest.topic());
    for (ArchiveStatus s : ArchiveStatus.of(manifest, log.start(), log.end())) {
      System.out.println(s.line());
    }
  }

  /** {@code kb archive status --to URI [--topic T]}. */
  @Command(
      name = "status",
      description =
          "Per partition: the archived offset ranges, Kafka's log start and end, and the gaps"
              + " (offsets neither holds).")
  static final class Status implements Runnable {
    @Mixin HelpOption help;
    @Mixin Connections connections;

    @Option(names = "--to", required = true, paramLabel = "URI", description = "The archive.")
    String to;

    @Option(names = "--topic", description = "Only this topic (default: every archived topic).")
    String topic;

    @Override
    public void run() {
      ArchiveLayout layout = ArchiveLayout.at(to);
      FileSystems.setDefaultPipelineOptions(PipelineOptionsFactory.create());
      try {
        List<String> topics = topic != null ? List.of(topic) : ArchiveRun.topics(layout);
        if (topics.isEmpty()) {
          throw new CliException(ExitCodes.ENVIRONMENT, "no archived topic under " + to);
        }
        System.out.println(ArchiveStatus.HEADER);
        for (String t : topics) {
          printLines(connections, Manifest.read(layout, t));
        }
      } catch (IOException e) {
        throw new CliException(
            ExitCodes.ENVIRONMENT, "cannot read the archive at " + to + ": " + e.getMessage(), e);
      }
    }
  }
}
