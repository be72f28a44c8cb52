package dev.kappabeam.pipelines;

import dev.kappabeam.pipelines.kafka.ArchiveSeam;
import dev.kappabeam.pipelines.kafka.KafkaClientConfig;
import dev.kappabeam.pipelines.kafka.KafkaOffsets;
import dev.kappabeam.pipelines.kafka.KafkaSetupException;
import dev.kappabeam.pipelines.kafka.KafkaSources;
import dev.kappabeam.pipelines.kafka.LogArchive;
import dev.kappabeam.pipelines.kafka.PartitionRange;
import dev.kappabeam.pipelines.options.KafkaSourceOptions;
import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.pipelines.options.RunMode;
import dev.kappabeam.pipelines.options.StoreConfigs;
import dev.kappabeam.pipelines.runner.RunnerSupports;
import dev.kappabeam.pipelines.sinks.KafkaSinks;
import dev.kappabeam.pipelines.sinks.ReportReadProgress;
import dev.kappabeam.pipelines.sinks.ServingSinks;
import dev.kappabeam.transforms.LogViews;
import dev.kappabeam.transforms.events.CountFrom;
import dev.kappabeam.transforms.events.EventFormat;
import dev.kappabeam.transforms.events.EventType;
import dev.kappabeam.transforms.events.SourceRecord;
import dev.kappabeam.transforms.views.ViewCatalog;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.ViewSpec;
import dev.kappabeam.transforms.views.Views;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.POutput;
import org.apache.beam.sdk.values.Row;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.joda.time.Duration;

/**
 * The pipeline: a source of raw records, {@link LogViews} of the selected views (in the event
 * format they read: the reference workload's unless a plug-in's views are selected), and the sinks.
 * The same assembly serves every mode; {@link #plan} turns options into a concrete source
 * (streaming, drained streaming or historical) with the offsets it will read.
 *
 * <pre>{@code
 * KappaBeamOptions o = PipelineOptionsFactory.fromArgs(args).withValidation().as(KappaBeamOptions.class);
 * RunPlan plan = KappaBeamPipeline.plan(o);
 * PipelineResult result = plan.pipeline().run();
 * }</pre>
 */
public final class KappaBeamPipeline {
  private KappaBeamPipeline() {}

  /** Applies the shared transforms between a source and the sinks. */
  public static Pipeline assemble(
      Pipeline p,
      PTransform<PBegin, PCollection<SourceRecord>> source,
      LogViews<?> views,
      ViewSinks sinks) {
    PCollection<SourceRecord> read = p.apply("ReadEvents", source);
    PCollection<SourceRecord> records =
        sinks.progress().map(pass -> read.apply("ReportReadProgress", pass)).orElse(read);
    // The step keeps its first name: runners key restored state by step names.
    PCollectionTuple out = records.apply("ReferenceViews", views);
    for (ViewDefinition view : views.views()) {
      PTransform<PCollection<Row>, ? extends POutput> sink = sinks.views().get(view);
      if (sink == null) {
        throw new IllegalArgumentException("no sink for view " + view.name());
      }
      out.get(LogViews.rowsOf(view)).apply("Write_" + view.name(), sink);
    }
    out.get(LogViews.DEAD_LETTERS).apply("WriteDeadLetters", sinks.deadLetters());
    writeLate(out, views, sinks);
    return p;
  }

  /** The late events of the views' format to the late sink, which takes any format's. */
  @SuppressWarnings("unchecked")
  private static <E> void writeLate(PCollectionTuple out, LogViews<E> views, ViewSinks sinks) {
    out.get(views.late())
        .apply("WriteLate", (PTransform<PCollection<E>, ? extends POutput>) sinks.late());
  }

  /**
   * The event format the views read (all of them the same one; {@link LogViews#of} refuses a mix).
   */
  public static EventFormat<?> format(List<ViewDefinition> views) {
    return logViews(views, ViewParameters.defaults()).format();
  }

  /** The shared transforms of these views (by name from {@link ViewCatalog#current()}). */
  private static LogViews<?> logViews(List<ViewDefinition> views, ViewParameters parameters) {
    List<ViewSpec<?>> specs = new ArrayList<>();
    for (ViewDefinition v : views) {
      specs.add(ViewCatalog.current().require(v.name()));
    }
    return LogViews.of(specs, parameters);
  }

  /** The logic parameters from options, validated. */
  public static ViewParameters parameters(KappaBeamOptions o) {
    ViewParameters p =
        ViewParameters.defaults()
            .withAllowedLateness(duration(o.getAllowedLateness(), "--allowedLateness"))
            .withDedupHorizon(duration(o.getDedupHorizon(), "--dedupHorizon"))
            .withSessionGap(duration(o.getSessionGap(), "--sessionGap"));
    String early = o.getEarlyFiringInterval();
    if (early != null && !early.isBlank()) {
      p = p.withEarlyFiringInterval(duration(early, "--earlyFiringInterval"));
    }
    Set<EventType> excluded = EnumSet.noneOf(EventType.class);
    for (String t : split(o.getExcludeTypes())) {
      excluded.add(
          EventType.fromJson(t)
              .orElseThrow(
                  () ->
                      new IllegalArgumentException(
                          "--excludeTypes: unknown type '"
                              + t
                              + "'; use view, click, cart, purchase")));
    }
    return p.withExcludedTypes(excluded);
  }

  /**
   * The selected views (the reference views when empty), by name from {@link
   * ViewCatalog#current()}: a plug-in's views are taken like the reference views.
   */
  public static List<ViewDefinition> views(String names) {
    List<ViewDefinition> out = new ArrayList<>();
    ViewCatalog catalog = ViewCatalog.current();
    for (String n : split(names)) {
      out.add(catalog.require(n).definition());
    }
    return out.isEmpty() ? Views.all() : out;
  }

  public static String consumerGroup(KappaBeamOptions o) {
    String g = o.getConsumerGroup();
    return g == null || g.isBlank() ? "kappa-beam." + o.getTopic() + "." + o.getViewVersion() : g;
  }

  /**
   * Creates the run's dead-letter and late topics (as many partitions as its input topic) unless
   * they exist.
   *
   * @throws KafkaSetupException when Kafka refuses or does not answer within 30 s
   */
  public static void ensureOutputTopics(KappaBeamOptions o) {
    try (KafkaOffsets kafka = new KafkaOffsets(kafkaClients(o))) {
      int partitions = kafka.partitions(o.getTopic()).size();
      Set<String> existing = kafka.topics();
      List<NewTopic> missing = new ArrayList<>();
      for (String t : List.of(deadLetterTopic(o), lateTopic(o))) {
        if (!existing.contains(t)) {
          missing.add(new NewTopic(t, partitions, (short) 1));
        }
      }
      if (!missing.isEmpty()) {
        kafka.admin().createTopics(missing).all().get(30, TimeUnit.SECONDS);
      }
    } catch (ExecutionException | TimeoutException e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        throw new KafkaSetupException(
            "cannot create the dead-letter/late topics: " + e.getMessage(), e);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaSetupException("interrupted while creating the dead-letter/late topics", e);
    }
  }

  public static String deadLetterTopic(KappaBeamOptions o) {
    String t = o.getDeadLetterTopic();
    return t == null || t.isBlank() ? o.getTopic() + ".dlq" : t;
  }

  /**
   * The run's Kafka clients: {@code --bootstrapServers} and {@code --kafkaConfigFile} (read and
   * checked now; workers read it again where they create clients).
   */
  public static KafkaClientConfig kafkaClients(KafkaSourceOptions o) {
    return KafkaClientConfig.of(o.getBootstrapServers(), o.getKafkaConfigFile()).validate();
  }

  public static String lateTopic(KappaBeamOptions o) {
    String t = o.getLateTopic();
    return t == null || t.isBlank() ? o.getTopic() + ".late" : t;
  }

  /**
   * Resolves the offsets to read (for historical and drained runs), builds the pipeline and returns
   * it with what it will read. Fails with a clear message if Kafka is unreachable or the topic does
   * not exist.
   */
  public static RunPlan plan(KappaBeamOptions o) {
    RunnerSupports.check(o);
    StoreConfigs.password(o); // refuses --jdbcPassword whatever the store: runners display options
    ViewParameters params = parameters(o);
    List<ViewDefinition> views = views(o.getViews());
    LogViews<?> logViews = logViews(views, params);
    EventFormat<?> format = logViews.format();
    Duration bound = duration(o.getMaxOutOfOrderness(), "--maxOutOfOrderness");
    String group = consumerGroup(o);
    List<PartitionRange> ranges = List.of();
    PTransform<PBegin, PCollection<SourceRecord>> source;
    CountFrom countFrom = null;
    int deadLetterMaxBytes;
    KafkaClientConfig kafkaClients = kafkaClients(o);
    try (KafkaOffsets kafka = new KafkaOffsets(kafkaClients)) {
      List<TopicPartition> partitions = kafka.partitions(o.getTopic());
      deadLetterMaxBytes = deadLetterMaxBytes(kafka.maxMessageBytes(deadLetterTopic(o)));
      if (o.getCountFromOffsets() != null && !o.getCountFromOffsets().isBlank()) {
        Map<Integer, Long> from = new LinkedHashMap<>();
        KafkaOffsets.partitionOffsets(
                partitions,
                o.getCountFromOffsets(),
                kafka.offsets(partitions, OffsetSpec.latest()),
                "--countFromOffsets")
            .forEach((tp, offset) -> from.put(tp.partition(), offset));
        countFrom = CountFrom.of(o.getTopic(), from);
        if (o.getPrimedUntil() != null && !o.getPrimedUntil().isBlank()) {
          try {
            countFrom = countFrom.withPrimerNewest(org.joda.time.Instant.parse(o.getPrimedUntil()));
          } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                "--primedUntil must be an ISO-8601 instant like 2026-11-25T10:00:00Z, got '"
                    + o.getPrimedUntil()
                    + "'");
          }
        }
      }
      boolean historical = o.getMode() == RunMode.HISTORICAL;
      if (historical || o.getDrainWhenCaughtUp()) {
        Map<TopicPartition, Long> end =
            historical && o.getStopAt() != null && !o.getStopAt().isBlank()
                ? kafka.offsets(partitions, KafkaOffsets.parseStartPoint(o.getStopAt()))
                : kafka.offsets(partitions, OffsetSpec.latest());
        if (o.getStopOffsets() != null && !o.getStopOffsets().isBlank()) {
          if (!historical) {
            throw new IllegalArgumentException(
                "--stopOffsets is for historical runs; a drained streaming run stops at the end"
                    + " offsets at launch");
          }
          end = KafkaOffsets.stopOffsets(partitions, o.getStopOffsets(), end);
        }
        boolean archived = o.getArchive() != null && !o.getArchive().isBlank();
        if (archived && !"earliest".equals(o.getStartFrom())) {
          throw new IllegalArgumentException(
              "--archive replays from the start of the log: use --startFrom=earliest");
        }
        Map<TopicPartition, Long> kafkaStart = kafka.offsets(partitions, OffsetSpec.earliest());
        Map<TopicPartition, Long> start =
            new LinkedHashMap<>(
                archived
                    ? KafkaOffsets.zero(partitions)
                    : kafka.offsets(partitions, KafkaOffsets.parseStartPoint(o.getStartFrom())));
        if (!historical) {
          start.putAll(kafka.committed(group, partitions));
        }
        ranges = KafkaOffsets.ranges(partitions, start, end);
        source =
            archived
                ? archiveAndKafka(o, kafkaClients, ranges, kafkaStart, historical, bound, format)
                : historical
                    ? KafkaSources.historical(kafkaClients, ranges)
                    : KafkaSources.drained(kafkaClients, ranges, bound, format);
      } else {
        if (o.getArchive() != null && !o.getArchive().isBlank()) {
          throw new IllegalArgumentException(
              "--archive reads a fixed range: a historical run, or a streaming run with"
                  + " --drainWhenCaughtUp (an open-ended job from an archive is not supported yet;"
                  + " start the live job where the drained one ended)");
        }
        source =
            KafkaSources.streaming(
                kafkaClients,
                o.getTopic(),
                group,
                autoOffsetReset(o.getStartFrom()),
                bound,
                format);
      }
    }
    Map<ViewDefinition, PTransform<PCollection<Row>, ? extends POutput>> viewSinks =
        new LinkedHashMap<>();
    for (ViewDefinition v : views) {
      viewSinks.put(v, ServingSinks.sink(o, o.getLambdaPartials() ? Views.lambdaPartial(v) : v));
    }
    ViewSinks sinks =
        new ViewSinks(
            viewSinks,
            KafkaSinks.deadLetters(kafkaClients, deadLetterTopic(o), deadLetterMaxBytes),
            KafkaSinks.late(kafkaClients, lateTopic(o), format));
    if (o.getReportProgress() && ServingSinks.JDBC.equals(o.getServingStore())) {
      if (o.getRunId() == null || o.getRunId().isBlank()) {
        o.setRunId(java.util.UUID.randomUUID().toString());
      }
      sinks = sinks.withProgress(new ReportReadProgress(StoreConfigs.of(o), group, o.getRunId()));
    }
    Pipeline p = Pipeline.create(o);
    if (countFrom != null) {
      logViews = logViews.withCountFrom(countFrom);
    }
    assemble(p, source, o.getLambdaPartials() ? logViews.withUserSets() : logViews, sinks);
    return new RunPlan(p, ranges, group, params, views);
  }

  /**
   * A historical replay of {@code ranges} from the archive below Kafka's first offsets and from
   * Kafka from there ({@link ArchiveSeam}): one collection, the same records as a replay of the
   * whole log from Kafka would read.
   */
  private static PTransform<PBegin, PCollection<SourceRecord>> archiveAndKafka(
      KappaBeamOptions o,
      KafkaClientConfig kafka,
      List<PartitionRange> ranges,
      Map<TopicPartition, Long> kafkaStart,
      boolean historical,
      Duration bound,
      EventFormat<?> format) {
    LogArchive archive = LogArchive.open(o.getArchive(), o);
    Map<Integer, Long> seam = new LinkedHashMap<>();
    kafkaStart.forEach((tp, offset) -> seam.put(tp.partition(), offset));
    ArchiveSeam split =
        ArchiveSeam.of(ranges, seam, archive.coverage(o.getTopic()), o.getArchive());
    if (!historical) {
      // One reader per partition across the seam: the watermark and de-duplication see one log.
      return KafkaSources.drainedWithArchive(kafka, ranges, bound, format, archive, seam);
    }
    return new PTransform<>() {
      @Override
      public PCollection<SourceRecord> expand(PBegin input) {
        PCollection<SourceRecord> fromArchive =
            input.apply("ReadArchive", archive.read(o.getTopic(), split.archive()));
        PCollection<SourceRecord> fromKafka =
            input.apply("ReadKafka", KafkaSources.historical(kafka, split.kafka()));
        return PCollectionList.of(fromArchive)
            .and(fromKafka)
            .apply("ArchiveThenKafka", Flatten.pCollections());
      }
    };
  }

  /**
   * The largest dead letter written whole: the producer default (1 MiB), or less when the
   * dead-letter topic allows less. Larger ones are truncated ({@link KafkaSinks#deadLetters}).
   */
  static int deadLetterMaxBytes(java.util.OptionalInt topicMaxMessageBytes) {
    int max = KafkaSinks.DEFAULT_MAX_RECORD_BYTES;
    if (topicMaxMessageBytes.isPresent()) {
      max = Math.min(max, topicMaxMessageBytes.getAsInt());
    }
    return max;
  }

  private static String autoOffsetReset(String startFrom) {
    if ("earliest".equals(startFrom) || "latest".equals(startFrom)) {
      return startFrom;
    }
    throw new IllegalArgumentException(
        "an open-ended streaming run starts at earliest or latest when its group has no offsets;"
            + " for a timestamp use --drainWhenCaughtUp or commit offsets for the group first");
  }

  /** An ISO-8601 duration (PT10S, PT1H, P1D) as a Joda duration. */
  public static Duration duration(String iso, String flag) {
    return dev.kappabeam.transforms.LogicDefaults.duration(iso, flag);
  }

  private static List<String> split(String csv) {
    List<String> out = new ArrayList<>();
    if (csv != null) {
      for (String s : csv.split(",")) {
        if (!s.isBlank()) {
          out.add(s.strip());
        }
      }
    }
    return out;
  }

  /**
   * {@code args} with the defaults of the runner they select ({@link RunnerSupports#withDefaults}:
   * those registered on the classpath, e.g. a shaded runner jar's), as validated options: what
   * {@link #main} runs.
   */
  public static KappaBeamOptions options(String... args) {
    String[] withDefaults = RunnerSupports.withDefaults(List.of(args)).toArray(new String[0]);
    return PipelineOptionsFactory.fromArgs(withDefaults)
        .withValidation()
        .as(KappaBeamOptions.class);
  }

  /** Entry point with standard Beam flags, e.g. {@code --runner=FlinkRunner --topic=events ...}. */
  public static void main(String[] args) {
    KappaBeamOptions o;
    RunPlan plan;
    try {
      o = options(args);
      plan = plan(o);
    } catch (IllegalArgumentException e) {
      // A usage error (an unknown view or option, a bad value): one line and exit 2, as kb does.
      System.err.println("kappa-beam: error: " + e.getMessage());
      System.exit(2);
      return;
    }
    PipelineResult result = plan.pipeline().run();
    if (o.getWaitUntilFinish()) {
      PipelineResult.State state = result.waitUntilFinish();
      if (state != PipelineResult.State.DONE) {
        throw new IllegalStateException("the pipeline ended in state " + state);
      }
    }
  }
}
