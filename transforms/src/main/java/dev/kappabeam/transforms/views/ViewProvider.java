package dev.kappabeam.transforms.views;

import java.util.List;

/**
 * Adds a team's views to kappa-beam: a service ({@link java.util.ServiceLoader}) that a jar names
 * in {@code META-INF/services/dev.kappabeam.transforms.views.ViewProvider}. {@link ViewCatalog}
 * finds every provider on the class path (or given to {@code kb --plugin}) next to the reference
 * views. A provider has a public no-argument constructor.
 */
public interface ViewProvider {
  /**
   * The views this provider adds. Each name must be new: not a reference view's, not another
   * provider's (the catalog refuses a clash rather than pick one).
   */
  List<? extends ViewSpec<?>> views();
}
