package dev.kappabeam.cli;

import dev.kappabeam.pipelines.kafka.KafkaOffsets;
import dev.kappabeam.transforms.events.EventParser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code kb produce --topic T --file F}: one record per line of a JSON-lines file, the bytes of
 * each line unchanged (so bad lines reach the pipeline as they are), key = the event's user_id when
 * the line is a valid event, else no key.
 */
@Command(
    name = "produce",
    description = "Produce the lines of a JSON-lines file (key = user_id) to a topic.",
    mixinStandardHelpOptions = true)
final class ProduceCommand implements Runnable {
  @Mixin Connections connections;

  @Option(names = "--topic", required = true, description = "Target topic.")
  String topic;

  @Option(names = "--file", required = true, description = "JSON-lines file ('-' for stdin).")
  String file;

  @Override
  public void run() {
    try (KafkaOffsets kafka = new KafkaOffsets(connections.kafka())) {
      kafka.partitions(topic); // clear error if missing
    }
    byte[] content;
    try (InputStream in = "-".equals(file) ? System.in : Files.newInputStream(Path.of(file))) {
      content = in.readAllBytes();
    } catch (NoSuchFileException e) {
      throw new CliException(ExitCodes.USAGE, "no such file: " + file);
    } catch (IOException e) {
      throw new CliException(
          ExitCodes.ENVIRONMENT, "cannot read " + file + ": " + e.getMessage(), e);
    }
    long sent = 0;
    try (KafkaProducer<byte[], byte[]> producer = Producers.create(connections.kafka())) {
      Future<RecordMetadata> last = null;
      int start = 0;
      for (int i = 0; i <= content.length; i++) {
        if (i == content.length || content[i] == '\n') {
          int end = i > start && content[i - 1] == '\r' ? i - 1 : i;
          if (end > start || i < content.length) {
            byte[] value = Arrays.copyOfRange(content, start, end);
            if (value.length > 0) {
              last = producer.send(new ProducerRecord<>(topic, keyOf(value), value));
              sent++;
            }
          }
          start = i + 1;
        }
      }
      producer.flush();
      if (last != null) {
        last.get();
      }
    } catch (ExecutionException e) {
      throw new CliException(
          ExitCodes.ENVIRONMENT,
          "producing to " + topic + " failed: " + e.getCause().getMessage(),
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException(ExitCodes.ENVIRONMENT, "interrupted", e);
    }
    System.out.println("produced " + sent + " records to " + topic);
  }

  static byte[] keyOf(byte[] value) {
    EventParser.Result r = EventParser.parse(value);
    return r.isValid() ? r.event().userId().getBytes(StandardCharsets.UTF_8) : null;
  }
}
