package com.example.orders.next;

import com.example.orders.CustomerFunnel;
import dev.kappabeam.transforms.views.ViewProvider;
import dev.kappabeam.transforms.views.ViewSpec;
import java.util.List;
import org.apache.avro.generic.GenericRecord;

/**
 * The provider of the next build of the plug-in: the revenue view with the changed logic ({@link
 * RevenueAtShipment}) and the funnel unchanged. Listed only in the test resource {@code
 * next-build/META-INF/services/dev.kappabeam.transforms.views.ViewProvider}, so the shipped jar's
 * catalog stays {@link com.example.orders.OrderViews}.
 */
public final class NextOrderViews implements ViewProvider {
  @Override
  public List<ViewSpec<GenericRecord>> views() {
    return List.of(new RevenueAtShipment(), new CustomerFunnel());
  }
}
