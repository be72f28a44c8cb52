package dev.kappabeam.pipelines.options;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;

/** All options of the reference pipeline: source, event time and serving store. */
public interface KappaBeamOptions
    extends KafkaSourceOptions, EventTimeOptions, ServingStoreOptions {
  @Description(
      "Whether the pipeline's main waits for the job to finish. Pass false when submitting an"
          + " open-ended streaming job detached (e.g. flink run -d with --attachedMode=false):"
          + " main then returns once the job is submitted.")
  @Default.Boolean(true)
  boolean getWaitUntilFinish();

  void setWaitUntilFinish(boolean value);

  @Description(
      "Write Lambda partial rows (Views.lambdaPartial): activity_per_minute rows also store their"
          + " exact user set (column users), so a Lambda batch table and speed table merge exactly."
          + " Set by kb batch and kb speed.")
  @Default.Boolean(false)
  boolean getLambdaPartials();

  void setLambdaPartials(boolean value);
}
