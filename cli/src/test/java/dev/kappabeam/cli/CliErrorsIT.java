package dev.kappabeam.cli;

import static dev.kappabeam.cli.EndToEndSupport.kb;
import static dev.kappabeam.cli.EndToEndSupport.kbOk;
import static dev.kappabeam.cli.EndToEndSupport.uniqueTopic;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.devstack.LocalStack;
import dev.kappabeam.serving.StoreConfig;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.Views;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input to kb: each must end with exactly one {@code kb: error: ...} line on stderr (nothing
 * else there, no stack trace) and the documented exit code: 2 for bad usage, 3 for an environment
 * problem.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class CliErrorsIT {
  private static final Pattern STACK_TRACE_LINE =
      Pattern.compile(
          "^\\s+at \\S+\\(.*\\)$|^Caused by: |^Exception in thread |^\\S+(Exception|Error): ");

  @TempDir static Path tempDir;

  private static LocalStack stack;
  private static ViewStore store;

  @BeforeAll
  static void startStack() {
    stack = LocalStack.start(LocalStack.Config.of(tempDir.resolve("stack")).withFreePorts());
    store = new ViewStore(StoreConfig.of(stack.jdbcUrl(), stack.jdbcUser(), stack.jdbcPassword()));
  }

  @AfterAll
  static void stopStack() {
    try {
      if (store != null) {
        store.close();
      }
    } finally {
      if (stack != null) {
        stack.close();
      }
    }
  }

  @Test
  void unknownViewIsBadUsage() {
    InProcessKb.Result r =
        kb(stack, "views", "export", "--view", "nope", "--version", "v1", "--format", "csv");
    assertOneLineError(r, 2);
    assertTrue(r.errorLines().get(0).contains("nope"), r.describe());
    assertTrue(r.errorLines().get(0).contains("activity_per_minute"), "lists the known views");
  }

  @Test
  void malformedFlagValueIsBadUsage() {
    InProcessKb.Result r =
        kb(stack, "run", "--mode", "sideways", "--topic", "whatever", "--version", "v1");
    assertOneLineError(r, 2);
    assertTrue(r.errorLines().get(0).contains("sideways"), r.describe());
  }

  /** Kafka's clients retry for a long time by default; kb must give up within about 30 s. */
  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void unreachableBrokerIsAnEnvironmentProblemReportedWithin30Seconds() {
    InProcessKb.Result r =
        InProcessKb.run("topics", "create", "x", "--bootstrap-servers", "127.0.0.1:1");
    assertTrue(
        r.elapsed().compareTo(Duration.ofSeconds(30)) <= 0,
        "took " + r.elapsed().toSeconds() + " s\n" + r.describe());
    assertOneLineError(r, 3);
    assertTrue(r.errorLines().get(0).contains("127.0.0.1:1"), r.describe());
  }

  @Test
  void missingTopicIsAnEnvironmentProblemThatSuggestsCreatingIt() {
    String topic = uniqueTopic("does-not-exist");
    InProcessKb.Result r =
        kb(stack, "run", "--mode", "historical", "--topic", topic, "--version", "m1");
    assertOneLineError(r, 3);
    assertTrue(r.errorLines().get(0).contains("kb topics create " + topic), r.describe());
    for (ViewDefinition v : Views.all()) {
      assertFalse(store.tableExists(v, "m1"), "a failed run must not create " + v.name() + " m1");
    }
  }

  @Test
  void existingVersionIsAnEnvironmentProblemThatMentionsResume() {
    String topic = uniqueTopic("existing");
    kbOk(stack, "topics", "create", topic, "--partitions", "1");
    for (ViewDefinition v : Views.all()) {
      store.createTable(v, "x1");
    }
    for (String mode : List.of("historical", "streaming")) {
      InProcessKb.Result r = kb(stack, "run", "--mode", mode, "--topic", topic, "--version", "x1");
      assertOneLineError(r, 3);
      assertTrue(r.errorLines().get(0).contains("--resume"), r.describe());
      assertTrue(r.errorLines().get(0).contains("x1"), r.describe());
    }
  }

  private static void assertOneLineError(InProcessKb.Result r, int exitCode) {
    assertEquals(exitCode, r.exitCode(), "exit code\n" + r.describe());
    assertEquals(
        1, r.errorLines().size(), "exactly one 'kb: error:' line on stderr\n" + r.describe());
    for (String line : r.errLines()) {
      assertFalse(
          STACK_TRACE_LINE.matcher(line).find(),
          "stack trace on stderr: " + line + "\n" + r.describe());
    }
    assertEquals(
        r.errorLines(),
        r.errLines(),
        "stderr must hold only the error line ("
            + r.errLines().size()
            + " lines)\n"
            + r.describe());
  }
}
