package dev.kappabeam.transforms.views;

import static dev.kappabeam.transforms.TestRecords.at;
import static dev.kappabeam.transforms.TestRecords.event;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertSame;

import dev.kappabeam.transforms.ReferenceViews;
import dev.kappabeam.transforms.events.SourceRecord;
import java.util.List;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.junit.Rule;
import org.junit.Test;

/** Lambda partial rows: activity_per_minute carries its exact, sorted user set. */
public class LambdaPartialRowsTest {
  @Rule public final transient TestPipeline p = TestPipeline.create();

  @Test
  public void activityPartialRowsCarryTheSortedUserSetAsJson() {
    PCollectionTuple out =
        p.apply(
                TestStream.create(SourceRecord.Coder.of())
                    .addElements(
                        event("e-1", "u-2", "view", at(0, 5)),
                        event("e-2", "u-1", "view", at(0, 30)),
                        event("e-3", "u-2", "view", at(0, 40)))
                    .advanceWatermarkToInfinity())
            .apply(
                ReferenceViews.of(ViewParameters.defaults())
                    .withViews(List.of(Views.ACTIVITY_PER_MINUTE))
                    .withUserSets());
    Row expected =
        Row.withSchema(Views.ACTIVITY_PER_MINUTE_PARTIAL.schema())
            .addValues(at(0, 0), "view", 3L, 2L, 0L, "[\"u-1\",\"u-2\"]")
            .build();
    PAssert.that(out.get(ReferenceViews.rowsOf(Views.ACTIVITY_PER_MINUTE)))
        .containsInAnyOrder(expected);
    p.run();
  }

  @Test
  public void onlyActivityNeedsAPartialDefinition() {
    assertSame(Views.ACTIVITY_PER_MINUTE_PARTIAL, Views.lambdaPartial(Views.ACTIVITY_PER_MINUTE));
    assertSame(Views.USER_SESSIONS, Views.lambdaPartial(Views.USER_SESSIONS));
    assertSame(Views.ITEM_REVENUE_HOURLY, Views.lambdaPartial(Views.ITEM_REVENUE_HOURLY));
    assertEquals(
        Views.ACTIVITY_PER_MINUTE.keyColumns(), Views.ACTIVITY_PER_MINUTE_PARTIAL.keyColumns());
  }
}
