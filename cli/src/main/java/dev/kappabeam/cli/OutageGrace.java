package dev.kappabeam.cli;

import dev.kappabeam.pipelines.options.ServingStoreOptions;
import dev.kappabeam.serving.StoreConfig;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import picocli.CommandLine.Option;

/**
 * {@code --outage-grace} of the commands that run jobs (run, reprocess, speed, batch): how long the
 * job's sink and its controller (registry, heartbeat, counters) ride out a lost serving store
 * before the run fails with exit 4. Also the one place that turns a run's exception into the cause
 * recorded in the registry.
 */
final class OutageGrace {
  @Option(
      names = "--outage-grace",
      paramLabel = "DURATION",
      defaultValue = "PT2M",
      description =
          "How long a lost serving-store connection is ridden out (retried with backoff, nothing"
              + " lost) before the run fails with exit 4; ISO-8601 (default ${DEFAULT-VALUE}).")
  String text;

  /** The grace as a duration; exit 2 with what to write when it is not one. */
  Duration duration() {
    try {
      Duration grace = Duration.parse(text);
      if (!grace.isNegative()) {
        return grace;
      }
    } catch (DateTimeParseException e) {
      // Said below.
    }
    throw new IllegalArgumentException(
        "--outage-grace must be an ISO-8601 duration of zero or more, e.g. PT2M or PT30S; got '"
            + text
            + "'");
  }

  /** Hands the grace to the job's workers (its pipeline options). */
  void applyTo(ServingStoreOptions o) {
    o.setOutageGrace(duration().toString());
  }

  /** {@code store} riding out outages for this grace. */
  StoreConfig apply(StoreConfig store) {
    return store.withOutageGrace(duration());
  }
}
