package dev.kappabeam.cli;

import dev.kappabeam.pipelines.KappaBeamPipeline;
import dev.kappabeam.serving.StoreConfig;
import dev.kappabeam.transforms.views.ViewDefinition;
import java.util.List;

/** Shared pieces of kb batch, kb speed and kb lambda: the views selected and the inner kb run. */
final class LambdaSupport {
  private LambdaSupport() {}

  static List<ViewDefinition> views(String names) {
    return KappaBeamPipeline.views(names);
  }

  static String names(List<ViewDefinition> views) {
    return String.join(",", views.stream().map(ViewDefinition::name).toList());
  }

  static StoreConfig store(Connections c) {
    return c.store();
  }
}
