package dev.kappabeam.cli;

import static dev.kappabeam.cli.EndToEndSupport.kb;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.devstack.LocalStack;
import dev.kappabeam.serving.StoreConfig;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.views.Views;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The error contract of the Kappa commands ({@code reprocess}, {@code cutover}, {@code rollback},
 * {@code drop}, {@code status}) and of {@code kb --help}: one {@code kb: error:} line on stderr and
 * nothing else, exit 2 for bad usage and 3 for a registry state that does not allow the command.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class RegistryCliErrorsIT {
  private static final Pattern STACK_TRACE_LINE =
      Pattern.compile(
          "^\\s+at \\S+\\(.*\\)$|^Caused by: |^Exception in thread |^\\S+(Exception|Error): ");

  @TempDir static Path tempDir;

  private static LocalStack stack;

  @BeforeAll
  static void startStack() {
    stack = LocalStack.start(LocalStack.Config.of(tempDir.resolve("stack")).withFreePorts());
  }

  @AfterAll
  static void stopStack() {
    if (stack != null) {
      stack.close();
    }
  }

  @Test
  void helpListsTheKappaCommandsAndTheExitCodes() {
    InProcessKb.Result r = InProcessKb.run("--help");
    assertEquals(0, r.exitCode(), r.describe());
    for (String command :
        List.of("reprocess", "cutover", "rollback", "drop", "status", "verify", "demo")) {
      assertTrue(
          Pattern.compile("(?m)^\\s+" + command + "\\s").matcher(r.out()).find(),
          command + " is listed\n" + r.out());
    }
    for (String code : List.of("0", "1", "2", "3", "4")) {
      assertTrue(
          Pattern.compile("(?m)^\\s+" + code + "\\s+\\S").matcher(r.out()).find(),
          "exit code " + code + " is documented\n" + r.out());
    }
    InProcessKb.Result demoHelp = InProcessKb.run("demo", "--help");
    assertEquals(0, demoHelp.exitCode(), demoHelp.describe());
    assertTrue(demoHelp.out().contains("--skip-kappa"), demoHelp.out());
  }

  @Test
  void cutoverOfAnUnregisteredVersionIsAnEnvironmentProblem() {
    InProcessKb.Result r =
        kb(stack, "cutover", "--view", "activity_per_minute", "--version", "nope1");
    assertOneLineError(r, 3);
    assertTrue(r.errorLines().get(0).contains("kb status"), r.describe());
  }

  @Test
  void rollbackWithNothingLiveIsAnEnvironmentProblem() {
    InProcessKb.Result r = kb(stack, "rollback", "--view", "item_revenue_hourly");
    assertOneLineError(r, 3);
    assertTrue(r.errorLines().get(0).contains("item_revenue_hourly"), r.describe());
  }

  @Test
  void dropOfAnUnknownVersionIsAnEnvironmentProblemAndTouchesNothing() {
    try (ViewStore store =
        new ViewStore(StoreConfig.of(stack.jdbcUrl(), stack.jdbcUser(), stack.jdbcPassword()))) {
      store.createTable(Views.USER_SESSIONS, "orphan1");
      InProcessKb.Result r = kb(stack, "drop", "--view", "user_sessions", "--version", "orphan1");
      assertOneLineError(r, 3);
      assertTrue(store.tableExists(Views.USER_SESSIONS, "orphan1"), "nothing was dropped");
    }
  }

  @Test
  void malformedKappaFlagsAreBadUsage() {
    assertOneLineError(kb(stack, "reprocess", "--view", "nope", "--version", "v2"), 2);
    assertOneLineError(
        kb(
            stack,
            "reprocess",
            "--view",
            "activity_per_minute",
            "--version",
            "v2",
            "--caught-up-for",
            "10s"),
        2);
    assertOneLineError(
        kb(stack, "reprocess", "--view", "activity_per_minute", "--version", "Bad-Version"), 2);
    assertOneLineError(kb(stack, "status", "--stale-after", "soon"), 2);
    assertOneLineError(kb(stack, "cutover", "--view", "user_sessions"), 2);
  }

  @Test
  void reprocessWithoutALiveVersionOrTopicSaysToPassTheTopic() {
    InProcessKb.Result r = kb(stack, "reprocess", "--view", "user_sessions", "--version", "fresh1");
    assertOneLineError(r, 2);
    assertTrue(r.errorLines().get(0).contains("--topic"), r.describe());
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
    assertEquals(r.errorLines(), r.errLines(), "stderr must hold only the error line");
  }
}
