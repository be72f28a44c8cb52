package com.example.orders;

import dev.kappabeam.transforms.views.ViewProvider;
import dev.kappabeam.transforms.views.ViewSpec;
import java.util.List;
import org.apache.avro.generic.GenericRecord;

/**
 * The plug-in: kappa-beam finds it by {@link java.util.ServiceLoader} through {@code
 * META-INF/services/dev.kappabeam.transforms.views.ViewProvider}, and then every {@code kb} command
 * (and a runner's shaded jar with this jar on its class path) takes the views by name.
 */
public final class OrderViews implements ViewProvider {
  @Override
  public List<ViewSpec<GenericRecord>> views() {
    return List.of(new RevenuePerCurrency(), new CustomerFunnel());
  }
}
