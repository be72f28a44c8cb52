package dev.kappabeam.runners.dataflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kappabeam.pipelines.KappaBeamPipeline;
import dev.kappabeam.pipelines.RunPlan;
import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.pipelines.runner.RunnerSupports;
import dev.kappabeam.runners.testkit.ParityFixture;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.Views;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.beam.runners.dataflow.DataflowRunner;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each mode of the reference pipeline translates to a Dataflow job specification offline: the real
 * {@link KappaBeamPipeline#plan} (offsets from a real local broker holding a small workload), then
 * {@code DataflowRunner} with {@code --templateLocation}, no-op credentials and path validation,
 * and local temp and staging directories. Nothing contacts Google Cloud: the runner writes the job
 * (its steps, type and options) as JSON to the template file, which the test reads back.
 */
@Tag("matrix")
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class DataflowJobSpecIT {
  @TempDir static Path tempDir;

  private static ParityFixture fixture;

  @BeforeAll
  static void produceWorkload() throws Exception {
    fixture = ParityFixture.start(tempDir.resolve("stack"), "dataflow-spec", 200);
  }

  @AfterAll
  static void stopStack() {
    if (fixture != null) {
      fixture.close();
    }
  }

  @Test
  void historicalRunIsABatchJobReadingTheSnapshottedRanges() throws Exception {
    Spec spec = translate("h1", "--mode=HISTORICAL");
    assertEquals("JOB_TYPE_BATCH", spec.job.path("type").asText());
    assertFalse(spec.options().path("streaming").asBoolean(), "batch options");
    for (dev.kappabeam.pipelines.kafka.PartitionRange r : spec.plan.ranges()) {
      assertTrue(spec.text.contains(r.toString()), "the snapshotted range " + r + " is in the job");
    }
    spec.assertNamedSteps();
    assertTrue(
        spec.hasStepNamed("ReadEvents/ReadKafkaRanges"),
        "the bounded range read of the historical mode: " + spec.names());
  }

  @Test
  void streamingRunIsAStreamingJobWithAnUnboundedKafkaRead() throws Exception {
    Spec spec = translate("s1", "--mode=STREAMING");
    assertEquals("JOB_TYPE_STREAMING", spec.job.path("type").asText());
    assertTrue(spec.options().path("streaming").asBoolean(), "set by DataflowRunner, not by us");
    spec.assertNamedSteps();
    assertTrue(spec.hasStepNamed("ReadEvents/ReadKafka"), "KafkaIO read: " + spec.names());
    assertTrue(spec.text.contains(fixture.topic()), "the topic is in the job: " + fixture.topic());
  }

  /** No --streaming flag: Dataflow infers streaming from the unbounded readSourceDescriptors. */
  @Test
  void drainedStreamingRunIsAStreamingJobWithStopOffsets() throws Exception {
    Spec spec = translate("d1", "--mode=STREAMING", "--drainWhenCaughtUp=true");
    assertEquals("JOB_TYPE_STREAMING", spec.job.path("type").asText());
    assertTrue(spec.options().path("streaming").asBoolean(), "set by DataflowRunner, not by us");
    assertEquals(fixture.expected().read(), spec.plan.totalRecords(), "stop offsets at the end");
    spec.assertNamedSteps();
    assertTrue(spec.hasStepNamed("ReadEvents/Partitions"), "descriptors: " + spec.names());
    assertTrue(spec.hasStepNamed("ReadEvents/ReadKafka"), "SDF Kafka read: " + spec.names());
  }

  @Test
  void jdbcServingStoreOnTheLocalStackIsRefusedForALaunch() {
    List<String> args = new ArrayList<>(baseArgs("r1", false));
    args.remove("--servingStore=bigquery");
    args.remove("--bigQueryDataset=serving");
    args.add("--servingStore=jdbc");
    args.add("--jdbcUrl=" + fixture.stack().jdbcUrl());
    KappaBeamOptions o = options(args);
    IllegalArgumentException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            dev.kappabeam.pipelines.runner.UnsupportedRunException.class,
            () -> KappaBeamPipeline.plan(o));
    assertTrue(e.getMessage().contains("loopback"), e.getMessage());
  }

  /**
   * A job writing to a JDBC store with its password in a file: the spec (options, and every
   * serialized DoFn, base64-decoded and uncompressed) holds the file's path but never the password.
   */
  @Test
  void jdbcPasswordReachesTheJobByReferenceOnly() throws Exception {
    String canary = "CANARY-" + java.util.UUID.randomUUID();
    Path passwordFile = tempDir.resolve("db-password");
    Files.writeString(passwordFile, canary);
    List<String> args = new ArrayList<>(baseArgs("p1", true));
    args.remove("--servingStore=bigquery");
    args.remove("--bigQueryDataset=serving");
    args.add("--servingStore=jdbc");
    args.add("--jdbcUrl=jdbc:postgresql://db.internal:5432/kb");
    args.add("--jdbcPasswordFile=" + passwordFile.toAbsolutePath());
    args.add("--mode=HISTORICAL");
    KappaBeamOptions o = options(args);
    RunPlan plan = KappaBeamPipeline.plan(o);
    plan.pipeline().run();
    String text = Files.readString(tempDir.resolve("p1-job.json"));
    Files.createDirectories(Path.of("target", "job-specs"));
    Files.writeString(Path.of("target", "job-specs", "p1-job.json"), text);
    String decoded = decodedPayloads(new ObjectMapper().readTree(text));
    assertFalse(text.contains(canary), "the job spec holds no password");
    assertFalse(decoded.contains(canary), "no serialized DoFn holds the password");
    assertTrue(
        decoded.contains(passwordFile.toAbsolutePath().toString()),
        "the decoding reaches the sinks' DoFns: they carry the password file's path");
  }

  /**
   * A job whose Kafka clients take a properties file with a password in it (SASL settings beside a
   * PLAINTEXT protocol, so that the local broker still answers the launch): in both Kafka reads and
   * the Kafka writes, the spec and every decoded DoFn carry the file's path, never the password.
   */
  @Test
  void kafkaClientSettingsReachTheJobByReferenceOnly() throws Exception {
    String canary = "CANARY-" + java.util.UUID.randomUUID();
    Path kafkaConfig = tempDir.resolve("kafka-client.properties");
    Files.writeString(
        kafkaConfig,
        "security.protocol=PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\n"
            + "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required"
            + " username=\"kb\" password=\""
            + canary
            + "\";\n");
    for (String mode : List.of("HISTORICAL", "DRAINED")) {
      String version = "k" + mode.substring(0, 1).toLowerCase(java.util.Locale.ROOT);
      List<String> args = new ArrayList<>(baseArgs(version, true));
      args.add("--kafkaConfigFile=" + kafkaConfig.toAbsolutePath());
      args.addAll(
          mode.equals("HISTORICAL")
              ? List.of("--mode=HISTORICAL")
              : List.of("--mode=STREAMING", "--drainWhenCaughtUp=true"));
      RunPlan plan = KappaBeamPipeline.plan(options(args));
      plan.pipeline().run();
      String text = Files.readString(tempDir.resolve(version + "-job.json"));
      String decoded = decodedPayloads(new ObjectMapper().readTree(text));
      assertFalse(text.contains(canary), mode + ": the job spec holds no Kafka password");
      assertFalse(decoded.contains(canary), mode + ": no serialized DoFn holds the password");
      assertTrue(
          text.contains(kafkaConfig.toAbsolutePath().toString()),
          mode + ": the options name the file");
      assertTrue(
          decoded.contains(kafkaConfig.toAbsolutePath().toString()),
          mode + ": the Kafka reads and writes carry the file's path");
    }
  }

  @Test
  void passwordAsAPipelineOptionIsRefusedBeforeAnyJobIsWritten() {
    List<String> args = new ArrayList<>(baseArgs("p2", true));
    args.add("--jdbcPassword=CANARY-option");
    KappaBeamOptions o = options(args);
    IllegalArgumentException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class, () -> KappaBeamPipeline.plan(o));
    assertTrue(e.getMessage().contains("--jdbcPasswordFile"), e.getMessage());
    assertFalse(e.getMessage().contains("CANARY"), e.getMessage());
    assertFalse(Files.exists(tempDir.resolve("p2-job.json")), "no job spec written");
  }

  /**
   * Every long string of the spec, percent-decoded (how the runner writes bytes such as a
   * serialized_fn) and, when it is a Snappy stream (Beam compresses serialized DoFns),
   * uncompressed.
   */
  private static String decodedPayloads(JsonNode node) throws java.io.IOException {
    StringBuilder out = new StringBuilder();
    List<JsonNode> stack = new ArrayList<>(List.of(node));
    while (!stack.isEmpty()) {
      JsonNode n = stack.remove(stack.size() - 1);
      n.elements().forEachRemaining(stack::add);
      if (!n.isTextual() || n.asText().length() < 64) {
        continue;
      }
      String v = n.asText();
      java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
      for (int i = 0; i < v.length(); i++) {
        char c = v.charAt(i);
        if (c == '%' && i + 2 < v.length()) {
          bytes.write(Integer.parseInt(v.substring(i + 1, i + 3), 16));
          i += 2;
        } else {
          bytes.write(c);
        }
      }
      byte[] raw = bytes.toByteArray();
      if (raw.length > 7 && new String(raw, 1, 6, StandardCharsets.ISO_8859_1).equals("SNAPPY")) {
        try (java.io.InputStream in =
            new org.xerial.snappy.SnappyInputStream(new java.io.ByteArrayInputStream(raw))) {
          raw = in.readAllBytes();
        }
      }
      out.append(new String(raw, StandardCharsets.ISO_8859_1)).append('\n');
    }
    return out.toString();
  }

  private Spec translate(String version, String... modeFlags) throws Exception {
    List<String> args = new ArrayList<>(baseArgs(version, true));
    args.addAll(Arrays.asList(modeFlags));
    KappaBeamOptions o = options(args);
    RunPlan plan = KappaBeamPipeline.plan(o);
    long started = System.nanoTime();
    PipelineResult result = plan.pipeline().run();
    long millis = (System.nanoTime() - started) / 1_000_000;
    System.out.printf("job spec %s: run() took %d ms%n", version, millis);
    assertTrue(result.getClass().getSimpleName().contains("Template"), result.getClass().getName());
    Path file = tempDir.resolve(version + "-job.json");
    String text = Files.readString(file);
    // Kept for a reader of the build: target/job-specs/<version>-job.json.
    Path kept = Path.of("target", "job-specs");
    Files.createDirectories(kept);
    Files.writeString(kept.resolve(file.getFileName()), text);
    return new Spec(plan, new ObjectMapper().readTree(text), text);
  }

  private static KappaBeamOptions options(List<String> args) {
    KappaBeamOptions o =
        PipelineOptionsFactory.fromArgs(RunnerSupports.withDefaults(args).toArray(new String[0]))
            .withValidation()
            .as(KappaBeamOptions.class);
    assertEquals(DataflowRunner.class, o.getRunner());
    return o;
  }

  private static List<String> baseArgs(String version, boolean template) {
    Path temp = tempDir.resolve(version);
    List<String> args =
        new ArrayList<>(
            List.of(
                "--runner=DataflowRunner",
                "--project=kappa-beam-offline",
                "--region=r",
                "--tempLocation=" + temp.resolve("temp"),
                "--gcpTempLocation=" + temp.resolve("gcp-temp"),
                "--stagingLocation=" + tempDir.resolve("staging"),
                // One jar, as a launch with the shaded jar stages (the default would hash and
                // copy the ~300 jars of the test classpath for every job).
                "--filesToStage=" + System.getProperty("kb.dataflow.jar", "target/classes"),
                "--pathValidatorClass=org.apache.beam.sdk.extensions.gcp.storage.NoopPathValidator",
                "--credentialFactoryClass=org.apache.beam.sdk.extensions.gcp.auth.NoopCredentialFactory",
                "--bootstrapServers=" + fixture.stack().bootstrapServers(),
                "--topic=" + fixture.topic(),
                "--viewVersion=" + version,
                "--servingStore=bigquery",
                "--bigQueryDataset=serving"));
    if (template) {
      args.add("--templateLocation=" + tempDir.resolve(version + "-job.json").toAbsolutePath());
    }
    return args;
  }

  /** The job JSON and the user-facing names of its steps. */
  private static final class Spec {
    final RunPlan plan;
    final JsonNode job;
    final String text;

    Spec(RunPlan plan, JsonNode job, String text) {
      this.plan = plan;
      this.job = job;
      this.text = text;
    }

    /** The pipeline options recorded in the job. */
    JsonNode options() {
      return job.path("environment").path("sdkPipelineOptions").path("options");
    }

    List<String> names() {
      List<String> out = new ArrayList<>();
      for (JsonNode step : job.path("steps")) {
        out.add(step.path("properties").path("user_name").path("value").asText());
      }
      return out;
    }

    boolean hasStepNamed(String prefix) {
      return names().stream().anyMatch(n -> n.startsWith(prefix));
    }

    /** Every named transform of the assembly, and a BigQuery write per view. */
    void assertNamedSteps() {
      List<String> names = names();
      assertFalse(names.isEmpty(), "the job has steps: " + text.substring(0, 500));
      List<String> want = new ArrayList<>(List.of("ReadEvents", "ReferenceViews"));
      for (ViewDefinition v : Views.all()) {
        want.add("Write_" + v.name());
      }
      want.add("WriteDeadLetters");
      want.add("WriteLate");
      List<String> missing =
          want.stream().filter(w -> !hasStepNamed(w + "/")).collect(Collectors.toList());
      assertEquals(List.of(), missing, "steps of the named transforms, among: " + names);
      for (ViewDefinition v : Views.all()) {
        assertTrue(
            hasStepNamed("Write_" + v.name() + "/UpsertRows/"),
            v.name() + ": a BigQuery write: " + names);
      }
    }
  }
}
