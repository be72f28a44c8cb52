package dev.kappabeam.runners.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.runners.testkit.ParityFixture;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.Views;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shaded jar as {@code spark-submit} runs it: a new JVM whose classpath is Spark and what Spark
 * brings (the part of this module's runtime classpath the shaded jar leaves out, i.e. what a Spark
 * 3.5 distribution's {@code jars/} holds), running Spark's own submit entry point ({@code
 * org.apache.spark.deploy.SparkSubmit}, which the {@code spark-submit} script launches) with {@code
 * --class dev.kappabeam.pipelines.KappaBeamPipeline --master local[2] <shaded jar>} and the
 * pipeline flags. The historical run must equal the oracle. (A Spark distribution is not on Maven
 * Central, so the {@code spark-submit} shell script itself is not run here.)
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class SparkSubmitIT {
  @TempDir static Path tempDir;

  private static ParityFixture fixture;

  @BeforeAll
  static void produceWorkload() throws Exception {
    fixture = ParityFixture.start(tempDir.resolve("stack"), "spark-submit", 2000);
  }

  @AfterAll
  static void stopStack() {
    if (fixture != null) {
      fixture.close();
    }
  }

  @Test
  void shadedJarLeavesSparkOutAndMergesTheServiceFiles() throws IOException {
    try (ZipFile jar = new ZipFile(shadedJar().toFile())) {
      assertNotNull(jar.getEntry("org/apache/beam/runners/spark/SparkRunner.class"));
      assertNotNull(jar.getEntry("dev/kappabeam/pipelines/KappaBeamPipeline.class"));
      assertNotNull(jar.getEntry("org/apache/kafka/clients/consumer/KafkaConsumer.class"));
      assertEquals(null, jar.getEntry("org/apache/spark/SparkContext.class"), "Spark is provided");
      assertEquals(null, jar.getEntry("scala/Option.class"), "Scala is provided");
      assertTrue(
          read(jar, "META-INF/MANIFEST.MF")
              .contains("Main-Class: dev.kappabeam.pipelines.KappaBeamPipeline"));
      assertTrue(
          read(jar, "META-INF/services/dev.kappabeam.pipelines.runner.RunnerSupport")
              .contains(SparkRunnerSupport.class.getName()));
      String runners =
          read(jar, "META-INF/services/org.apache.beam.sdk.runners.PipelineRunnerRegistrar");
      assertTrue(runners.contains("org.apache.beam.runners.spark.SparkRunnerRegistrar"), runners);
      String options =
          read(jar, "META-INF/services/org.apache.beam.sdk.options.PipelineOptionsRegistrar");
      assertTrue(options.contains("org.apache.beam.runners.spark.SparkRunnerRegistrar"), options);
      assertTrue(options.contains("org.apache.beam.sdk.options.DefaultPipelineOptions"), options);
      for (Enumeration<? extends ZipEntry> e = jar.entries(); e.hasMoreElements(); ) {
        String name = e.nextElement().getName();
        assertFalse(name.matches("META-INF/[^/]+\\.(SF|DSA|RSA|EC)"), "signature file " + name);
      }
    }
  }

  @Test
  void historicalRunThroughSparkSubmitEqualsTheOracle() throws Exception {
    String version = "submit1";
    for (ViewDefinition view : Views.all()) {
      fixture.store().createTable(view, version);
    }
    List<String> sparkJars = providedBySpark();
    assertTrue(sparkJars.stream().anyMatch(j -> j.contains("spark-core_2.12-3.5.0")), "Spark");
    assertTrue(sparkJars.stream().anyMatch(j -> j.contains("scala-library-2.12")), "Scala");

    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx1g");
    // What Spark's launcher adds for the driver on Java 17 (JavaModuleOptions).
    for (String pkg :
        List.of(
            "java.lang",
            "java.lang.invoke",
            "java.lang.reflect",
            "java.io",
            "java.net",
            "java.nio",
            "java.util",
            "java.util.concurrent",
            "java.util.concurrent.atomic",
            "sun.nio.ch",
            "sun.nio.cs",
            "sun.security.action",
            "sun.util.calendar")) {
      cmd.add("--add-opens=java.base/" + pkg + "=ALL-UNNAMED");
    }
    cmd.addAll(
        List.of(
            "-cp",
            String.join(File.pathSeparator, sparkJars),
            "org.apache.spark.deploy.SparkSubmit",
            "--class",
            "dev.kappabeam.pipelines.KappaBeamPipeline",
            "--master",
            "local[2]",
            "--conf",
            "spark.ui.enabled=false",
            shadedJar().toString(),
            "--runner=SparkRunner",
            "--mode=HISTORICAL",
            "--bootstrapServers=" + fixture.stack().bootstrapServers(),
            "--topic=" + fixture.topic(),
            "--jdbcUrl=" + fixture.stack().jdbcUrl(),
            "--jdbcUser=" + fixture.stack().jdbcUser(),
            "--viewVersion=" + version));
    Path log = tempDir.resolve("spark-submit.log");
    Process process =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    boolean exited = process.waitFor(5, TimeUnit.MINUTES);
    if (!exited) {
      process.destroyForcibly();
    }
    String output = Files.readString(log);
    String tail = output.length() > 6000 ? output.substring(output.length() - 6000) : output;
    assertTrue(exited, "spark-submit did not finish in 5 minutes:\n" + tail);
    assertEquals(0, process.exitValue(), "spark-submit exit code; output:\n" + tail);
    fixture.assertViewsEqualOracle(version);
  }

  private static Path shadedJar() {
    Path jar = Path.of(System.getProperty("kb.spark.shadedJar"));
    assertTrue(Files.isRegularFile(jar), "run `mvn verify`: package builds " + jar);
    return jar;
  }

  /**
   * Jars a Spark 3.5.0 distribution's {@code jars/} holds although the shaded jar carries them too
   * (Beam needs them): Spark's own launcher needs slf4j before it loads the application jar.
   */
  private static final List<String> ALSO_IN_SPARK =
      List.of(
          "/org/slf4j/slf4j-api/",
          "/com/fasterxml/jackson/core/",
          "/org/apache/commons/commons-lang3/",
          "/commons-codec/commons-codec/",
          "/com/google/code/findbugs/jsr305/");

  /**
   * The classpath spark-submit provides: the jars of this module's runtime classpath whose classes
   * the shaded jar does not carry (Spark, Scala and the rest of what a Spark distribution ships),
   * plus {@link #ALSO_IN_SPARK}.
   */
  private static List<String> providedBySpark() throws IOException {
    Set<String> shaded = new HashSet<>();
    try (ZipFile jar = new ZipFile(shadedJar().toFile())) {
      jar.stream().forEach(e -> shaded.add(e.getName()));
    }
    List<String> out = new ArrayList<>();
    String cp = Files.readString(Path.of(System.getProperty("kb.spark.runtimeClasspath"))).strip();
    for (String entry : cp.split(File.pathSeparator)) {
      String someClass = firstClass(Path.of(entry));
      boolean alsoInSpark = ALSO_IN_SPARK.stream().anyMatch(entry::contains);
      if (someClass != null && (alsoInSpark || !shaded.contains(someClass))) {
        out.add(entry);
      }
    }
    return out;
  }

  private static String firstClass(Path jarPath) throws IOException {
    if (!Files.isRegularFile(jarPath)) {
      return null;
    }
    try (ZipFile jar = new ZipFile(jarPath.toFile())) {
      return jar.stream()
          .map(ZipEntry::getName)
          .filter(n -> n.endsWith(".class") && !n.startsWith("META-INF/"))
          .filter(n -> !n.endsWith("module-info.class"))
          .findFirst()
          .orElse(null);
    }
  }

  private static String read(ZipFile jar, String name) throws IOException {
    ZipEntry entry = jar.getEntry(name);
    assertNotNull(entry, name);
    try (InputStream in = jar.getInputStream(entry)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
