package dev.kappabeam.pipelines;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kappabeam.pipelines.options.KappaBeamOptions;
import dev.kappabeam.transforms.events.Event;
import dev.kappabeam.transforms.events.EventParser;
import dev.kappabeam.transforms.events.EventType;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.Views;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.List;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.joda.time.Duration;
import org.junit.jupiter.api.Test;

class KappaBeamPipelineTest {
  private static KappaBeamOptions options(String... args) {
    return PipelineOptionsFactory.fromArgs(args).as(KappaBeamOptions.class);
  }

  @Test
  void logicParametersComeFromIsoDurationFlags() {
    ViewParameters p =
        KappaBeamPipeline.parameters(
            options(
                "--allowedLateness=PT2H",
                "--sessionGap=PT10M",
                "--dedupHorizon=P1D",
                "--excludeTypes=view,cart"));
    assertEquals(Duration.standardHours(2), p.allowedLateness());
    assertEquals(Duration.standardMinutes(10), p.sessionGap());
    assertEquals(Duration.standardDays(1), p.dedupHorizon());
    assertEquals(EnumSet.of(EventType.VIEW, EventType.CART), p.excludedTypes());
    assertEquals(ViewParameters.defaults(), KappaBeamPipeline.parameters(options()));
  }

  @Test
  void badParametersSayWhatIsExpected() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> KappaBeamPipeline.parameters(options("--allowedLateness=1h")));
    assertTrue(
        e.getMessage().contains("--allowedLateness") && e.getMessage().contains("PT1H"),
        e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> KappaBeamPipeline.parameters(options("--excludeTypes=refund")));
    assertTrue(e.getMessage().contains("refund"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> KappaBeamPipeline.views("nope"));
    assertTrue(e.getMessage().contains(Views.names()), e.getMessage());
  }

  @Test
  void viewsSelection() {
    assertEquals(Views.all(), KappaBeamPipeline.views(""));
    assertEquals(List.of(Views.USER_SESSIONS), KappaBeamPipeline.views("user_sessions"));
  }

  @Test
  void defaultTopicsAndGroupFollowTheTopicAndVersion() {
    KappaBeamOptions o = options("--topic=orders", "--viewVersion=v3");
    assertEquals("kappa-beam.orders.v3", KappaBeamPipeline.consumerGroup(o));
    assertEquals("orders.dlq", KappaBeamPipeline.deadLetterTopic(o));
    assertEquals("orders.late", KappaBeamPipeline.lateTopic(o));
  }

  @Test
  void lateEventsAreWrittenAsJsonThatParsesBackToTheSameEvent() {
    Event e = new Event("e-\"1\"", "u-Zoë\\", EventType.PURCHASE, "sku-日本", 1299L, 1795600800123L);
    String json = dev.kappabeam.transforms.events.EventJson.toJson(e);
    assertEquals(e, EventParser.parse(json.getBytes(StandardCharsets.UTF_8)).event());
  }
}
