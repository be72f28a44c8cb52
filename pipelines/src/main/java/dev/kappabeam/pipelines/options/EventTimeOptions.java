package dev.kappabeam.pipelines.options;

import dev.kappabeam.transforms.LogicDefaults;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/** Event time, lateness and the other logic parameters of the views (ISO-8601 durations). */
public interface EventTimeOptions extends PipelineOptions {
  @Description("Streaming watermark: per partition, the newest event time seen minus this bound.")
  @Default.String(LogicDefaults.MAX_OUT_OF_ORDERNESS)
  String getMaxOutOfOrderness();

  void setMaxOutOfOrderness(String value);

  @Description("Late events up to this far behind the watermark still update their window.")
  @Default.String(LogicDefaults.ALLOWED_LATENESS)
  String getAllowedLateness();

  void setAllowedLateness(String value);

  @Description("Emit early panes this often (processing time); empty for none.")
  String getEarlyFiringInterval();

  void setEarlyFiringInterval(String value);

  @Description("Streaming de-duplication horizon (event time past the first copy).")
  @Default.String(LogicDefaults.DEDUP_HORIZON)
  String getDedupHorizon();

  void setDedupHorizon(String value);

  @Description("Inactivity gap that closes a user session.")
  @Default.String(LogicDefaults.SESSION_GAP)
  String getSessionGap();

  void setSessionGap(String value);

  @Description("Comma-separated event types left out of every view (e.g. view).")
  @Default.String(LogicDefaults.EXCLUDE_TYPES)
  String getExcludeTypes();

  void setExcludeTypes(String value);
}
