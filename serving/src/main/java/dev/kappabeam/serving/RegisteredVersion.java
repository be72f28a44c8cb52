package dev.kappabeam.serving;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;

/**
 * One row of the view registry ({@code kb_view_versions}): a version of a view, how it was built
 * (topic, consumer group, start point, runner, job handle, parameters, code), its status and its
 * timestamps. Nullable fields are null when not known yet (e.g. {@code caughtUpAt} of a version
 * still catching up).
 *
 * @param jobId the runner's job handle: {@code direct-<id>} for a DirectRunner job inside the kb
 *     process {@code jobPid} on {@code jobHost}, the Flink job id for Flink
 * @param jobState {@code running}, {@code stopped}, {@code done} or {@code failed}, as last
 *     recorded by the process that hosts the job; see {@link #jobAlive} for whether it still runs
 * @param parameters the logic parameters' {@code ViewParameters.fingerprint()} text
 * @param codeVersion a hash of the business-logic classes (see {@link CodeVersion})
 * @param fingerprint a short hash of view, parameters and code: equal fingerprints mean the same
 *     logic, so a version built with other logic or parameters shows it here
 * @param jobArgs the kb flags that define the version's logic (kept so that resuming it uses the
 *     same ones)
 * @param switchedAt when the version last became live
 * @param jobError why the job failed (job state {@code failed}), else null
 */
public record RegisteredVersion(
    String view,
    String version,
    Status status,
    String topic,
    String consumerGroup,
    String startPoint,
    String runner,
    String jobId,
    String jobHost,
    Long jobPid,
    String jobState,
    String parameters,
    String codeVersion,
    String fingerprint,
    String jobArgs,
    Instant createdAt,
    Instant startedAt,
    Instant heartbeatAt,
    Instant caughtUpAt,
    Instant switchedAt,
    Instant retiredAt,
    Instant droppedAt,
    String jobError) {

  /**
   * A new version as its registration records it: building, no job run yet, no time but what the
   * registry stamps.
   */
  public static RegisteredVersion building(
      String view,
      String version,
      String topic,
      String consumerGroup,
      String startPoint,
      String runner,
      String parameters,
      String codeVersion,
      String fingerprint,
      String jobArgs) {
    return new RegisteredVersion(
        view,
        version,
        Status.BUILDING,
        topic,
        consumerGroup,
        startPoint,
        runner,
        null,
        null,
        null,
        null,
        parameters,
        codeVersion,
        fingerprint,
        jobArgs,
        null,
        null,
        null,
        null,
        null,
        null,
        null);
  }

  /** A version whose job has not failed (no {@code jobError}). */
  public RegisteredVersion(
      String view,
      String version,
      Status status,
      String topic,
      String consumerGroup,
      String startPoint,
      String runner,
      String jobId,
      String jobHost,
      Long jobPid,
      String jobState,
      String parameters,
      String codeVersion,
      String fingerprint,
      String jobArgs,
      Instant createdAt,
      Instant startedAt,
      Instant heartbeatAt,
      Instant caughtUpAt,
      Instant switchedAt,
      Instant retiredAt,
      Instant droppedAt) {
    this(
        view,
        version,
        status,
        topic,
        consumerGroup,
        startPoint,
        runner,
        jobId,
        jobHost,
        jobPid,
        jobState,
        parameters,
        codeVersion,
        fingerprint,
        jobArgs,
        createdAt,
        startedAt,
        heartbeatAt,
        caughtUpAt,
        switchedAt,
        retiredAt,
        droppedAt,
        null);
  }

  /** The life cycle of a view version. */
  public enum Status {
    /** Its job is building the table; readers do not see it. */
    BUILDING,
    /** The alias (the SQL view named after the view) reads this version's table. */
    LIVE,
    /** Was live, kept for rollback until dropped. */
    RETIRED,
    /** Its table and consumer group are gone; the row stays as history. */
    DROPPED;

    public String sql() {
      return name().toLowerCase(Locale.ROOT);
    }

    public static Status of(String sql) {
      return valueOf(sql.toUpperCase(Locale.ROOT));
    }
  }

  /** Job states as recorded by the hosting process. */
  public static final String RUNNING = "running";

  public static final String STOPPED = "stopped";
  public static final String DONE = "done";
  public static final String FAILED = "failed";

  /**
   * True if the job was recorded running and its host's heartbeat is at most {@code staleAfter} old
   * at {@code now}. A job whose heartbeat stopped is dead (its controller died), not forgotten:
   * {@code kb status} reports it and {@code kb reprocess} resumes it.
   */
  public boolean jobAlive(Instant now, Duration staleAfter) {
    return RUNNING.equals(jobState)
        && heartbeatAt != null
        && !heartbeatAt.plus(staleAfter).isBefore(now);
  }

  /**
   * True for a version not yet live whose job ended on its own after reading all it was asked to (a
   * historical or drained run): its table is complete and ready for a cutover, nothing is still
   * building it.
   */
  public boolean complete() {
    return status == Status.BUILDING && DONE.equals(jobState) && caughtUpAt != null;
  }

  /** What to show for the version's status: its registry status, or "complete" (see above). */
  public String displayStatus() {
    return complete() ? "complete" : status.sql();
  }

  /** The version's table name, {@code <view>__<version>}. */
  public String table() {
    return view + "__" + version;
  }
}
