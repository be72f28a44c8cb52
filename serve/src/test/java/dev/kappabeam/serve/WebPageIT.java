package dev.kappabeam.serve;

import static dev.kappabeam.serve.ServeFixture.activity;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.kappabeam.serving.RegisteredVersion;
import dev.kappabeam.transforms.views.Views;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web page of {@code kb serve} in a real headless Chromium (Debian's {@code chromium} and
 * {@code chromium-driver}, which {@code .ci/run} installs) driven through Selenium WebDriver: the
 * page shows the live view's rows from the database and the building version's lag, and redraws by
 * itself, without a reload, after the database changes.
 *
 * <p>Without Chromium the test fails with the install command; {@code KB_SKIP_BROWSER=1} skips it.
 * {@code KB_CHROMIUM} and {@code KB_CHROMEDRIVER} override the binaries' paths.
 */
class WebPageIT {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static ServeFixture f;
  private static WebDriver driver;

  @BeforeAll
  static void setUp() throws Exception {
    String chromium = setting("KB_CHROMIUM", "/usr/bin/chromium");
    String chromedriver = setting("KB_CHROMEDRIVER", "/usr/bin/chromedriver");
    if (!Files.isExecutable(Path.of(chromium)) || !Files.isExecutable(Path.of(chromedriver))) {
      assumeFalse(
          "1".equals(setting("KB_SKIP_BROWSER", "")), "KB_SKIP_BROWSER=1: page test skipped");
      fail(
          "no headless browser: "
              + chromium
              + " or "
              + chromedriver
              + " is missing. Install them with `apt-get install -y chromium chromium-driver`, or"
              + " set KB_SKIP_BROWSER=1 to skip this test.");
    }
    f = new ServeFixture("page");
    f.build(
        Views.ACTIVITY_PER_MINUTE,
        "v1",
        null,
        List.of(activity(0, "view", 42, 4, 0), activity(1, "click", 17, 3, 0)));
    f.registry.cutover(Views.ACTIVITY_PER_MINUTE, "v1");
    RegisteredVersion v2 =
        f.build(Views.ACTIVITY_PER_MINUTE, "v2", null, List.of(activity(0, "view", 40, 4, 0)));
    f.registry.jobStarted(List.of(v2), "DirectRunner", "direct-page", "host-1", 1L);
    f.produce(0, 8);
    f.commit(f.group(Views.ACTIVITY_PER_MINUTE, "v2"), Map.of(0, 3L));
    // h1: a historical run that finished: complete, not reprocessing.
    RegisteredVersion h1 =
        f.build(Views.ACTIVITY_PER_MINUTE, "h1", null, List.of(activity(0, "view", 42, 4, 0)));
    f.registry.jobStarted(List.of(h1), "FlinkRunner", "flink-page", "host-1", 2L);
    f.registry.jobEnded("flink-page", RegisteredVersion.DONE);
    f.registry.caughtUp("activity_per_minute", "h1", java.time.Instant.now());

    ChromeOptions options = new ChromeOptions();
    options.setBinary(chromium);
    // As root (CI) Chromium refuses to start without --no-sandbox; /dev/shm is small in
    // containers, hence --disable-dev-shm-usage.
    options.addArguments(
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,1400");
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(new File(chromedriver))
            .usingAnyFreePort()
            .build();
    driver = new ChromeDriver(service, options);
  }

  private static String setting(String name, String fallback) {
    String v = System.getProperty(name);
    if (v == null) {
      v = System.getenv(name);
    }
    return v == null || v.isBlank() ? fallback : v;
  }

  @AfterAll
  static void tearDown() throws Exception {
    if (driver != null) {
      driver.quit();
    }
    if (f != null) {
      f.close();
    }
  }

  // Read in one script call: the page redraws its tables every refresh, so a WebElement found
  // first and read later may already be gone (stale).
  private static String text(String css) {
    Object v =
        ((JavascriptExecutor) driver)
            .executeScript(
                "var e = document.querySelector(arguments[0]);"
                    + " return e ? e.textContent.trim() : null;",
                css);
    return v == null ? null : v.toString();
  }

  private static String attribute(String css, String name) {
    Object v =
        ((JavascriptExecutor) driver)
            .executeScript(
                "var e = document.querySelector(arguments[0]);"
                    + " return e ? e.getAttribute(arguments[1]) : null;",
                css,
                name);
    return v == null ? null : v.toString();
  }

  private static String cell(String view, String key, String column) {
    return text("#view-" + view + " tr[data-key='" + key + "'] td[data-column='" + column + "']");
  }

  private static void waitFor(String what, java.util.function.Supplier<Boolean> condition) {
    try {
      new WebDriverWait(driver, WAIT).until(d -> condition.get());
    } catch (org.openqa.selenium.TimeoutException e) {
      fail(
          "the page did not show "
              + what
              + " within "
              + WAIT.toSeconds()
              + " s; page text:\n"
              + driver.findElement(By.tagName("body")).getText());
    }
  }

  @Test
  void pageShowsLiveRowsAndProgressAndUpdatesItselfWhenTheDatabaseChanges() throws Exception {
    driver.get(f.server.url() + "?refresh=0.5");
    String key = "2026-11-25T10:00:00Z|view";

    waitFor("the live v1 row", () -> "42".equals(cell("activity_per_minute", key, "events")));
    assertEquals("17", cell("activity_per_minute", "2026-11-25T10:01:00Z|click", "events"));
    assertTrue(text("#view-activity_per_minute h3").contains("live v1"));
    assertEquals("no live version", text("#view-item_revenue_hourly p"));
    waitFor(
        "v2 building with lag 5", () -> "5".equals(text("#progress-activity_per_minute-v2 .lag")));
    assertEquals("building", attribute("#version-activity_per_minute-v2", "data-status"));
    assertEquals("complete", text("#version-activity_per_minute-h1 td.status"));
    assertEquals(null, text("#progress-activity_per_minute-h1"), "no progress card for h1");
    assertTrue(text("#version-activity_per_minute-v1 .status").startsWith("live"));

    // A reload would clear this; the page must update in place.
    ((JavascriptExecutor) driver).executeScript("window.kbSamePage = 'yes';");
    long refreshesBefore = refreshes();

    // The job writes a newer pane for the row, publishes counters and commits its offsets.
    f.store.apply(Views.ACTIVITY_PER_MINUTE, "v1", List.of(activity(0, "view", 4242, 5, 0)));
    f.counters.publish("activity_per_minute", "v2", Map.of("read", 5L), Instant.now());
    waitFor("read 5", () -> "5".equals(text("#version-activity_per_minute-v2 .read")));
    // A second publish by the job: the server derives records/s from the two.
    f.counters.publish("activity_per_minute", "v2", Map.of("read", 8L), Instant.now());
    f.commit(f.group(Views.ACTIVITY_PER_MINUTE, "v2"), Map.of(0, 8L));

    waitFor("the updated row", () -> "4,242".equals(cell("activity_per_minute", key, "events")));
    waitFor("lag 0", () -> "0".equals(text("#progress-activity_per_minute-v2 .lag")));
    waitFor(
        "a read rate",
        () -> {
          String rate = text("#progress-activity_per_minute-v2 .rate");
          return rate != null && !rate.equals("-");
        });
    assertEquals("yes", ((JavascriptExecutor) driver).executeScript("return window.kbSamePage;"));
    assertTrue(refreshes() > refreshesBefore);
    Path shot = Path.of("target", "kb-serve-page.png");
    Files.createDirectories(shot.getParent());
    Files.copy(
        ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE).toPath(),
        shot,
        StandardCopyOption.REPLACE_EXISTING);

    // A cutover shows on the page too: v2's rows become the live ones.
    f.registry.cutover(Views.ACTIVITY_PER_MINUTE, "v2");
    waitFor("v2 live", () -> "40".equals(cell("activity_per_minute", key, "events")));
    waitFor("no building version", () -> attribute("#no-progress", "hidden") == null);
    assertEquals("yes", ((JavascriptExecutor) driver).executeScript("return window.kbSamePage;"));
  }

  private static long refreshes() {
    String n = attribute("#status", "data-refreshes");
    return n == null ? 0 : Long.parseLong(n);
  }
}
