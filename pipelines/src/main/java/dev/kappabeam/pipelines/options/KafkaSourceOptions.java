package dev.kappabeam.pipelines.options;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.Validation;

/** Where the event log is and which part of it a run reads. */
public interface KafkaSourceOptions extends PipelineOptions {
  @Description("Kafka bootstrap servers, e.g. 127.0.0.1:19092.")
  @Validation.Required
  String getBootstrapServers();

  void setBootstrapServers(String value);

  @Description(
      "Path of a Kafka client properties file (security.protocol, sasl.*, ssl.*, tuning) applied"
          + " to every consumer, producer and admin client of the run. Read where each client is"
          + " created, on the driver and on every worker, so the file must exist at this path"
          + " there; only the path is in the options. Its bootstrap.servers is ignored in favour"
          + " of --bootstrapServers.")
  String getKafkaConfigFile();

  void setKafkaConfigFile(String value);

  @Description("The topic holding the event log.")
  @Validation.Required
  String getTopic();

  void setTopic(String value);

  @Description(
      "streaming: unbounded read, resumes from the consumer group's offsets; historical: bounded"
          + " read from --startFrom to the end offsets snapshotted at launch (or --stopAt).")
  @Default.Enum("STREAMING")
  RunMode getMode();

  void setMode(RunMode value);

  @Description(
      "Where to start when there are no committed offsets (streaming) or always (historical):"
          + " earliest, latest, or an ISO-8601 instant (first record with a Kafka timestamp at or"
          + " after it).")
  @Default.String("earliest")
  String getStartFrom();

  void setStartFrom(String value);

  @Description(
      "Historical only: stop at the first record with a Kafka timestamp at or after this ISO-8601"
          + " instant instead of the end offsets at launch.")
  String getStopAt();

  void setStopAt(String value);

  @Description(
      "Historical runs: an archive of the topic (kb archive: a folder, s3://... or gs://...)"
          + " read for the offsets Kafka's retention deleted, Kafka from its first offset on.")
  String getArchive();

  void setArchive(String value);

  @Description(
      "Historical only: explicit per-partition stop offsets (exclusive), as partition:offset pairs"
          + " separated by commas, e.g. 0:1200,1:980,2:0,3:1310; every partition of the topic must"
          + " be given. A Lambda batch run reads exactly up to the cutoff it recorded.")
  String getStopOffsets();

  void setStopOffsets(String value);

  @Description(
      "Lambda speed layer: per-partition offsets (partition:offset,...) where counting starts."
          + " Records before them were counted by the batch run; the run reads them (from where"
          + " its group starts) only to prime its de-duplication, then drops them (counter"
          + " 'primed').")
  String getCountFromOffsets();

  void setCountFromOffsets(String value);

  @Description(
      "With --countFromOffsets: the newest event time among the records before them (ISO-8601)."
          + " Counted events up to it wait for the watermark so that a primer copy of theirs is"
          + " seen first; without it every counted event waits.")
  String getPrimedUntil();

  void setPrimedUntil(String value);

  @Description(
      "Streaming only: read up to the end offsets at launch, then drain (fire every window, write"
          + " the results, commit the offsets) and stop. For scripted checks and tests.")
  @Default.Boolean(false)
  boolean getDrainWhenCaughtUp();

  void setDrainWhenCaughtUp(boolean value);

  @Description(
      "Kafka consumer group of this job version (streaming). Default: kappa-beam.<topic>.<version>.")
  String getConsumerGroup();

  void setConsumerGroup(String value);

  @Description("Dead-letter topic. Default: <topic>.dlq.")
  String getDeadLetterTopic();

  void setDeadLetterTopic(String value);

  @Description("Topic for events later than the allowed lateness. Default: <topic>.late.")
  String getLateTopic();

  void setLateTopic(String value);
}
