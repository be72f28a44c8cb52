package dev.kappabeam.transforms.views;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.schemas.Schema;
import org.junit.jupiter.api.Test;

/** Lambda merge rules of a view: what a definition must say for Lambda to build it. */
class MergeRulesTest {
  private static final Schema SCHEMA =
      Schema.builder()
          .addDateTimeField("window_start")
          .addStringField("currency")
          .addInt64Field("orders")
          .addStringField("last_status")
          .build();

  private static ViewDefinition view() {
    return ViewDefinition.keyed("orders_5m", SCHEMA, List.of("window_start", "currency"), "orders");
  }

  @Test
  void aViewWithoutRulesIsNotMergeableAndOneWithRulesKeepsThemInSchemaOrder() {
    assertFalse(view().mergeRules().isPresent());
    ViewDefinition merged =
        view()
            .mergedBy(
                Map.of(
                    "last_status", ViewDefinition.Merge.MAX, "orders", ViewDefinition.Merge.SUM));
    assertEquals(List.of("orders", "last_status"), List.copyOf(merged.mergeRules().get().keySet()));
    assertEquals(ViewDefinition.Merge.MAX, merged.mergeRules().get().get("last_status"));
  }

  @Test
  void everyColumnOutsideTheKeyNeedsARuleThatFitsItsType() {
    IllegalArgumentException missing =
        assertThrows(
            IllegalArgumentException.class,
            () -> view().mergedBy(Map.of("orders", ViewDefinition.Merge.SUM)));
    assertTrue(
        missing.getMessage().contains("last_status needs a merge rule"), missing.getMessage());
    IllegalArgumentException sumOfText =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                view()
                    .mergedBy(
                        Map.of(
                            "orders", ViewDefinition.Merge.SUM,
                            "last_status", ViewDefinition.Merge.SUM)));
    assertTrue(sumOfText.getMessage().contains("does not merge"), sumOfText.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () ->
            view()
                .mergedBy(
                    Map.of(
                        "orders", ViewDefinition.Merge.SUM,
                        "last_status", ViewDefinition.Merge.MAX,
                        "currency", ViewDefinition.Merge.MIN)));
  }

  @Test
  void theReferenceViewsDeclareTheirRulesExceptTheDistinctCount() {
    assertTrue(Views.ITEM_REVENUE_HOURLY.mergeRules().isPresent());
    assertTrue(Views.USER_SESSIONS.mergeRules().isPresent());
    // distinct_users merges only through the exact user sets of its Lambda partial
    assertFalse(Views.ACTIVITY_PER_MINUTE.mergeRules().isPresent());
  }
}
