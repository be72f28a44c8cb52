package dev.kappabeam.cli;

import dev.kappabeam.pipelines.kafka.KafkaOffsets;
import dev.kappabeam.pipelines.kafka.KafkaSetupException;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code kb topics create|list}. */
@Command(
    name = "topics",
    description = "Create and list Kafka topics.",
    mixinStandardHelpOptions = true,
    subcommands = {TopicsCommand.Create.class, TopicsCommand.ListTopics.class})
final class TopicsCommand {

  @Command(name = "create", description = "Create a topic.", mixinStandardHelpOptions = true)
  static final class Create implements Runnable {
    @Mixin Connections connections;

    @Parameters(index = "0", paramLabel = "NAME", description = "Topic name.")
    String name;

    @Option(
        names = "--partitions",
        defaultValue = "1",
        description = "Partitions (default ${DEFAULT-VALUE}).")
    int partitions;

    @Option(names = "--if-not-exists", description = "Succeed if the topic already exists.")
    boolean ifNotExists;

    @Override
    public void run() {
      if (partitions < 1) {
        throw new IllegalArgumentException("--partitions must be at least 1, got " + partitions);
      }
      try (KafkaOffsets kafka = new KafkaOffsets(connections.kafka())) {
        kafka.topics(); // fails fast with a clear message when the broker is unreachable
        kafka
            .admin()
            .createTopics(List.of(new NewTopic(name, partitions, (short) 1)))
            .all()
            .get(30, TimeUnit.SECONDS);
        System.out.println("created topic " + name + " with " + partitions + " partition(s)");
      } catch (ExecutionException e) {
        if (e.getCause() instanceof TopicExistsException) {
          if (ifNotExists) {
            System.out.println("topic " + name + " already exists");
            return;
          }
          throw new CliException(
              ExitCodes.ENVIRONMENT,
              "topic " + name + " already exists; pick another name or pass --if-not-exists");
        }
        throw new CliException(
            ExitCodes.ENVIRONMENT,
            "cannot create topic " + name + ": " + e.getCause().getMessage(),
            e);
      } catch (TimeoutException | InterruptedException e) {
        throw new KafkaSetupException(
            "timed out creating topic " + name + " on " + connections.bootstrapServers(), e);
      }
    }
  }

  @Command(name = "list", description = "List topics.", mixinStandardHelpOptions = true)
  static final class ListTopics implements Runnable {
    @Mixin Connections connections;

    @Override
    public void run() {
      try (KafkaOffsets kafka = new KafkaOffsets(connections.kafka())) {
        for (String t : new TreeSet<>(kafka.topics())) {
          System.out.println(t + "\t" + kafka.partitions(t).size());
        }
      }
    }
  }
}
