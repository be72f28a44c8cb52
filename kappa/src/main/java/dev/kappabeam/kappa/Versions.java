package dev.kappabeam.kappa;

import dev.kappabeam.pipelines.kafka.KafkaClientConfig;
import dev.kappabeam.pipelines.kafka.KafkaOffsets;
import dev.kappabeam.pipelines.kafka.KafkaSetupException;
import dev.kappabeam.serving.ReadProgress;
import dev.kappabeam.serving.RegisteredVersion;
import dev.kappabeam.serving.StoreConfig;
import dev.kappabeam.serving.VersionCounters;
import dev.kappabeam.serving.ViewRegistry;
import dev.kappabeam.serving.ViewStore;
import dev.kappabeam.transforms.views.ViewCatalog;
import dev.kappabeam.transforms.views.ViewDefinition;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * The steps of a view version's life that act on a version already built: make it live (the
 * cutover, which retires the live one), and drop a retired one with everything it holds (its table,
 * its consumer group unless another version reads with it, its read progress and counters). The
 * registry rows and the alias are {@link ViewRegistry}'s; this class adds what spans the store and
 * Kafka and the rules about running jobs.
 */
public final class Versions {
  private final StoreConfig store;
  private final KafkaClientConfig kafka;

  public Versions(StoreConfig store, KafkaClientConfig kafka) {
    this.store = store;
    this.kafka = kafka;
  }

  /**
   * A cutover's outcome.
   *
   * @param previous the retired version's row (its job may still run), or null when none was live
   *     or {@code version} was live already ({@code change.at()} null)
   */
  public record Cutover(ViewRegistry.Switch change, @Nullable RegisteredVersion previous) {}

  /** Makes {@code version} live in one transaction, retiring the live version. */
  public static Cutover cutover(ViewRegistry registry, ViewDefinition view, String version) {
    ViewRegistry.Switch sw = registry.cutover(view, version);
    RegisteredVersion previous =
        sw.at() == null || sw.previous() == null
            ? null
            : registry.get(view.name(), sw.previous()).orElse(null);
    return new Cutover(sw, previous);
  }

  /**
   * A drop's outcome.
   *
   * @param groupSharedWith the other versions ("view version") reading with the same consumer
   *     group, which is then kept
   */
  public record Dropped(
      String table,
      boolean tableDropped,
      @Nullable String consumerGroup,
      List<String> groupSharedWith,
      boolean groupDeleted) {}

  /**
   * Drops a retired (or never live) version: its table, its consumer group unless another version
   * still uses it (a run of several views builds them with one job and one group), its read
   * progress and counters; the registry keeps the row as dropped.
   *
   * @throws KappaException CONFLICT while the version's job still runs
   * @throws dev.kappabeam.serving.RegistryException when the registry forbids it (live, unknown)
   */
  public Dropped drop(ViewDefinition view, String version) {
    try (ViewRegistry registry = new ViewRegistry(store);
        ViewStore tables = new ViewStore(store)) {
      RegisteredVersion r = registry.prepareDrop(view, version, false);
      if (JobHost.alive(r, JobHost.DEFAULT_STALE_AFTER)) {
        throw new KappaException(
            KappaException.Kind.CONFLICT,
            version
                + "'s job "
                + r.jobId()
                + " still runs (pid "
                + r.jobPid()
                + " on "
                + r.jobHost()
                + "); wait for it to stop, then drop");
      }
      boolean table = tables.dropTable(view, version);
      List<String> sharing = new ArrayList<>();
      for (ViewDefinition other : ViewCatalog.current().definitions()) {
        for (RegisteredVersion o : registry.versions(other.name())) {
          boolean self = other.name().equals(view.name()) && o.version().equals(version);
          if (!self
              && o.status() != RegisteredVersion.Status.DROPPED
              && r.consumerGroup() != null
              && r.consumerGroup().equals(o.consumerGroup())) {
            sharing.add(o.view() + " " + o.version());
          }
        }
      }
      boolean group = sharing.isEmpty() && deleteGroup(r.consumerGroup());
      if (sharing.isEmpty() && r.consumerGroup() != null) {
        try (ReadProgress progress = new ReadProgress(store)) {
          progress.delete(r.consumerGroup());
        }
      }
      try (VersionCounters counters = new VersionCounters(store)) {
        counters.delete(view.name(), version);
      }
      registry.markDropped(view.name(), version);
      return new Dropped(
          ViewStore.tableName(view, version), table, r.consumerGroup(), sharing, group);
    }
  }

  /** Deletes a consumer group; false when it did not exist. */
  private boolean deleteGroup(@Nullable String group) {
    if (group == null) {
      return false;
    }
    try (KafkaOffsets offsets = new KafkaOffsets(kafka)) {
      offsets.admin().deleteConsumerGroups(List.of(group)).all().get(20, TimeUnit.SECONDS);
      return true;
    } catch (ExecutionException e) {
      if (e.getCause() instanceof GroupIdNotFoundException) {
        return false;
      }
      throw new KafkaSetupException(
          "cannot delete consumer group " + group + ": " + e.getCause().getMessage(), e);
    } catch (TimeoutException e) {
      throw new KafkaSetupException("timed out deleting consumer group " + group, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaSetupException("interrupted while deleting consumer group " + group, e);
    }
  }
}
