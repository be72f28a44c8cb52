package dev.kappabeam.kappa;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Test only: lets the fault suite ({@code ControllerKillIT}) kill {@code kb reprocess} inside its
 * cutover deterministically. Set only by a test, as the JVM system property {@value #PROPERTY}
 * holding a file path: the controller, caught up and about to switch the alias, creates that file
 * and waits while it exists (at most {@link #LIMIT_MILLIS} ms), so the test kills it there. No kb
 * flag, environment variable or script sets the property; unset, {@link #beforeSwitch} does
 * nothing.
 */
public final class CutoverPauseForTests {
  public static final String PROPERTY = "kb.testOnly.pauseBeforeCutoverSwitch";

  /** The longest pause, so a property set by mistake delays a cutover but never stops it. */
  public static final long LIMIT_MILLIS = 60_000;

  private CutoverPauseForTests() {}

  public static void beforeSwitch(String version) {
    String file = System.getProperty(PROPERTY);
    if (file == null || file.isBlank()) {
      return;
    }
    Path marker = Path.of(file);
    System.err.printf(
        "kb: TEST ONLY (-D%s): pausing before the cutover switch of %s while %s exists%n",
        PROPERTY, version, marker);
    try {
      Files.writeString(marker, version);
      long deadline = System.nanoTime() + LIMIT_MILLIS * 1_000_000;
      while (Files.exists(marker) && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
