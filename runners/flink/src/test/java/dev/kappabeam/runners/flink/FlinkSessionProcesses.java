package dev.kappabeam.runners.flink;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobID;
import org.apache.flink.client.deployment.StandaloneClusterId;
import org.apache.flink.client.program.rest.RestClusterClient;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.runtime.clusterframework.types.ResourceID;
import org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint;
import org.apache.flink.runtime.rest.messages.EmptyMessageParameters;
import org.apache.flink.runtime.rest.messages.EmptyRequestBody;
import org.apache.flink.runtime.rest.messages.JobMessageParameters;
import org.apache.flink.runtime.rest.messages.checkpoints.CheckpointingStatistics;
import org.apache.flink.runtime.rest.messages.checkpoints.CheckpointingStatisticsHeaders;
import org.apache.flink.runtime.rest.messages.taskmanager.TaskManagerInfo;
import org.apache.flink.runtime.rest.messages.taskmanager.TaskManagersHeaders;
import org.apache.flink.runtime.taskexecutor.TaskManagerRunner;

/**
 * A Flink 1.19 session cluster whose JobManager and TaskManagers are processes of their own, so a
 * test can {@code kill -9} a TaskManager. Both run Flink's own entry points ({@link
 * StandaloneSessionClusterEntrypoint}, {@link TaskManagerRunner}, what {@code jobmanager.sh} and
 * {@code taskmanager.sh} start) on this JVM's classpath, with one {@code config.yaml} on loopback
 * and free ports; each process logs to a file next to it. Jobs are submitted to {@link
 * #flinkMaster()} like to any session cluster; {@link #client()} is its REST client.
 *
 * <p>The TaskManager's memory is given in full (the sizes {@code taskmanager.sh} would compute),
 * heartbeats are fast (1 s, timeout 5 s) so that the JobManager notices a dead TaskManager in
 * seconds rather than Flink's default 50 s.
 *
 * <pre>{@code
 * try (FlinkSessionProcesses flink = FlinkSessionProcesses.start(dir, 2)) {
 *   flink.startTaskManager();
 *   // submit with --flinkMaster=flink.flinkMaster(); later:
 *   flink.killTaskManager(0);
 * }
 * }</pre>
 */
final class FlinkSessionProcesses implements AutoCloseable {
  private static final Duration STARTUP = Duration.ofMinutes(2);

  private final Path dir;
  private final Process jobManager;
  private final int restPort;
  private final RestClusterClient<StandaloneClusterId> client;
  private final List<Process> taskManagers = new CopyOnWriteArrayList<>();

  private FlinkSessionProcesses(
      Path dir, Process jobManager, int restPort, RestClusterClient<StandaloneClusterId> client) {
    this.dir = dir;
    this.jobManager = jobManager;
    this.restPort = restPort;
    this.client = client;
  }

  /**
   * Writes the configuration under {@code dir} and starts the JobManager; returns once its REST
   * endpoint answers. Start TaskManagers with {@link #startTaskManager()}. Logs of an earlier
   * session in {@code dir} are overwritten.
   */
  static FlinkSessionProcesses start(Path dir, int slotsPerTaskManager) throws Exception {
    dir = dir.toAbsolutePath();
    Files.createDirectories(dir.resolve("tmp"));
    int restPort = freePort();
    Map<String, String> conf = new LinkedHashMap<>();
    conf.put("jobmanager.rpc.address", "127.0.0.1");
    conf.put("jobmanager.rpc.port", String.valueOf(freePort()));
    conf.put("jobmanager.bind-host", "127.0.0.1");
    conf.put("rest.address", "127.0.0.1");
    conf.put("rest.bind-address", "127.0.0.1");
    conf.put("rest.port", String.valueOf(restPort));
    conf.put("blob.server.port", String.valueOf(freePort()));
    conf.put("taskmanager.host", "127.0.0.1");
    conf.put("taskmanager.bind-host", "127.0.0.1");
    conf.put("taskmanager.rpc.port", "0");
    conf.put("taskmanager.data.port", "0");
    conf.put("taskmanager.numberOfTaskSlots", String.valueOf(slotsPerTaskManager));
    conf.put("taskmanager.cpu.cores", String.valueOf(slotsPerTaskManager));
    // What taskmanager.sh derives from taskmanager.memory.process.size; TaskManagerRunner itself
    // expects every size set.
    conf.put("taskmanager.memory.framework.heap.size", "128m");
    conf.put("taskmanager.memory.task.heap.size", "384m");
    conf.put("taskmanager.memory.framework.off-heap.size", "128m");
    conf.put("taskmanager.memory.task.off-heap.size", "0m");
    conf.put("taskmanager.memory.network.min", "64m");
    conf.put("taskmanager.memory.network.max", "64m");
    conf.put("taskmanager.memory.managed.size", "128m");
    conf.put("taskmanager.memory.jvm-metaspace.size", "256m");
    conf.put("taskmanager.memory.jvm-overhead.min", "192m");
    conf.put("taskmanager.memory.jvm-overhead.max", "192m");
    conf.put("heartbeat.interval", "1000");
    conf.put("heartbeat.timeout", "5000");
    conf.put("io.tmp.dirs", dir.resolve("tmp").toString());
    StringBuilder yaml = new StringBuilder();
    conf.forEach((k, v) -> yaml.append(k).append(": ").append(v).append('\n'));
    Files.writeString(dir.resolve("config.yaml"), yaml);

    Process jm = launch(dir, StandaloneSessionClusterEntrypoint.class, "jobmanager", "1g");
    Configuration clientConf = new Configuration();
    clientConf.set(RestOptions.ADDRESS, "127.0.0.1");
    clientConf.set(RestOptions.PORT, restPort);
    RestClusterClient<StandaloneClusterId> client =
        new RestClusterClient<>(clientConf, StandaloneClusterId.getInstance());
    FlinkSessionProcesses session = new FlinkSessionProcesses(dir, jm, restPort, client);
    // A test JVM that dies without closing the session must not leave its Flink JVMs behind.
    Runtime.getRuntime().addShutdownHook(new Thread(session::destroyProcesses));
    try {
      Instant deadline = Instant.now().plus(STARTUP);
      while (true) {
        try {
          client.getClusterOverview().get(5, TimeUnit.SECONDS);
          return session;
        } catch (Exception notYet) {
          if (!jm.isAlive() || Instant.now().isAfter(deadline)) {
            throw new IllegalStateException(
                "the JobManager did not come up (exit "
                    + (jm.isAlive() ? "none" : jm.exitValue())
                    + "); see "
                    + dir.resolve("jobmanager.log"),
                notYet);
          }
          Thread.sleep(250);
        }
      }
    } catch (Exception | Error e) {
      session.close();
      throw e;
    }
  }

  /**
   * Starts one more TaskManager process and returns once the JobManager has it registered; its
   * index is the number of TaskManagers started before it.
   */
  int startTaskManager() throws Exception {
    int index = taskManagers.size();
    Set<ResourceID> before = registeredTaskManagers();
    Process tm = launch(dir, TaskManagerRunner.class, "taskmanager-" + index, "1g");
    taskManagers.add(tm);
    Instant deadline = Instant.now().plus(STARTUP);
    while (before.containsAll(registeredTaskManagers())) {
      if (!tm.isAlive() || Instant.now().isAfter(deadline)) {
        throw new IllegalStateException(
            "TaskManager " + index + " did not register; see " + log("taskmanager-" + index));
      }
      Thread.sleep(250);
    }
    return index;
  }

  /** {@code kill -9} of a TaskManager's JVM (SIGKILL: no shutdown hook runs); waits for its end. */
  void killTaskManager(int index) throws InterruptedException {
    Process tm = taskManagers.get(index);
    tm.destroyForcibly();
    if (!tm.waitFor(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException("TaskManager " + index + " survived SIGKILL");
    }
  }

  /** The TaskManagers the JobManager knows (a killed one until its heartbeat times out). */
  Set<ResourceID> registeredTaskManagers() throws Exception {
    Set<ResourceID> ids = new HashSet<>();
    for (TaskManagerInfo tm :
        client
            .sendRequest(
                TaskManagersHeaders.getInstance(),
                EmptyMessageParameters.getInstance(),
                EmptyRequestBody.getInstance())
            .get(30, TimeUnit.SECONDS)
            .getTaskManagerInfos()) {
      ids.add(tm.getResourceId());
    }
    return ids;
  }

  /** The job's checkpoint statistics: counts, the latest completed and the restored one. */
  CheckpointingStatistics checkpoints(JobID job) throws Exception {
    JobMessageParameters params = new JobMessageParameters();
    params.jobPathParameter.resolve(job);
    return client
        .sendRequest(
            CheckpointingStatisticsHeaders.getInstance(), params, EmptyRequestBody.getInstance())
        .get(30, TimeUnit.SECONDS);
  }

  /** {@code host:port} of the REST endpoint, for {@code --flinkMaster}. */
  String flinkMaster() {
    return "127.0.0.1:" + restPort;
  }

  RestClusterClient<StandaloneClusterId> client() {
    return client;
  }

  /** The log file of a process ({@code jobmanager}, {@code taskmanager-0}, ...). */
  Path log(String name) {
    return dir.resolve(name + ".log");
  }

  @Override
  public void close() {
    client.close();
    for (Process tm : taskManagers) {
      stop(tm);
    }
    stop(jobManager);
  }

  private void destroyProcesses() {
    taskManagers.forEach(Process::destroyForcibly);
    jobManager.destroyForcibly();
  }

  private static void stop(Process p) {
    p.destroy();
    try {
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(20, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
    }
  }

  private static Process launch(Path dir, Class<?> main, String name, String heap)
      throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx" + heap);
    cmd.add("-Djava.io.tmpdir=" + dir.resolve("tmp"));
    cmd.add("-Dorg.slf4j.simpleLogger.showDateTime=true");
    cmd.add("-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS");
    // Flink's RPC (Pekko) and its serializers reflect into the JDK, as flink's scripts allow.
    cmd.add("--add-opens=java.base/java.lang=ALL-UNNAMED");
    cmd.add("--add-opens=java.base/java.util=ALL-UNNAMED");
    cmd.add("--add-opens=java.base/java.lang.reflect=ALL-UNNAMED");
    cmd.add("--add-opens=java.base/java.net=ALL-UNNAMED");
    cmd.add("--add-opens=java.base/java.nio=ALL-UNNAMED");
    cmd.add("--add-opens=java.base/sun.nio.ch=ALL-UNNAMED");
    cmd.add("--add-opens=java.base/java.util.concurrent=ALL-UNNAMED");
    cmd.add("--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED");
    cmd.add("--add-opens=java.base/java.io=ALL-UNNAMED");
    cmd.add("--add-opens=java.base/java.time=ALL-UNNAMED");
    cmd.add("--add-opens=java.base/java.math=ALL-UNNAMED");
    cmd.add("--add-opens=java.base/java.text=ALL-UNNAMED");
    cmd.add("--add-opens=java.sql/java.sql=ALL-UNNAMED");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(main.getName());
    cmd.add("--configDir");
    cmd.add(dir.toString());
    Path log = dir.resolve(name + ".log");
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
