package dev.kappabeam.pipelines;

import dev.kappabeam.pipelines.kafka.PartitionRange;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import java.util.List;
import org.apache.beam.sdk.Pipeline;

/** A built pipeline and what it will read: offset ranges (bounded and drained runs), group. */
public final class RunPlan {
  private final Pipeline pipeline;
  private final List<PartitionRange> ranges;
  private final String consumerGroup;
  private final ViewParameters parameters;
  private final List<ViewDefinition> views;

  RunPlan(
      Pipeline pipeline,
      List<PartitionRange> ranges,
      String consumerGroup,
      ViewParameters parameters,
      List<ViewDefinition> views) {
    this.pipeline = pipeline;
    this.ranges = List.copyOf(ranges);
    this.consumerGroup = consumerGroup;
    this.parameters = parameters;
    this.views = List.copyOf(views);
  }

  public Pipeline pipeline() {
    return pipeline;
  }

  /** Offset ranges read; empty for an open-ended streaming run. */
  public List<PartitionRange> ranges() {
    return ranges;
  }

  public long totalRecords() {
    return ranges.stream().mapToLong(PartitionRange::size).sum();
  }

  public String consumerGroup() {
    return consumerGroup;
  }

  public ViewParameters parameters() {
    return parameters;
  }

  public List<ViewDefinition> views() {
    return views;
  }
}
