package dev.kappabeam.transforms.views;

import dev.kappabeam.transforms.events.EventFormat;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.WeakHashMap;
import java.util.stream.Collectors;

/**
 * Every view a run can compute, by name: the reference views ({@link Views#specs()}) first, then
 * those of each {@link ViewProvider} found by {@link ServiceLoader}, in the order found. Names are
 * unique: a provider that repeats a name, or that fails to load, makes loading fail with a message
 * that names it.
 *
 * <pre>{@code
 * ViewSpec<?> spec = ViewCatalog.current().spec("purchases_per_user_hourly").orElseThrow();
 * }</pre>
 */
public final class ViewCatalog {
  private static final Map<ClassLoader, ViewCatalog> LOADED =
      Collections.synchronizedMap(new WeakHashMap<>());

  private final Map<String, ViewSpec<?>> specs;

  private ViewCatalog(Map<String, ViewSpec<?>> specs) {
    this.specs = Collections.unmodifiableMap(specs);
  }

  /**
   * The catalog of the current thread's context class loader (the class path, plus any plug-in jars
   * {@code kb} was given); loaded once per class loader.
   */
  public static ViewCatalog current() {
    ClassLoader loader = Thread.currentThread().getContextClassLoader();
    if (loader == null) {
      loader = ViewCatalog.class.getClassLoader();
    }
    return LOADED.computeIfAbsent(loader, ViewCatalog::load);
  }

  /** The reference views and the providers {@code loader} finds. */
  public static ViewCatalog load(ClassLoader loader) {
    List<ViewSpec<?>> all = new ArrayList<>(Views.specs());
    try {
      for (ViewProvider provider : ServiceLoader.load(ViewProvider.class, loader)) {
        List<? extends ViewSpec<?>> added =
            Objects.requireNonNull(
                provider.views(), () -> provider.getClass().getName() + ".views() returned null");
        for (ViewSpec<?> spec : added) {
          all.add(provided(spec, provider.getClass().getName()));
        }
      }
    } catch (ServiceConfigurationError e) {
      throw new IllegalStateException("a view provider failed to load: " + e.getMessage(), e);
    }
    return of(all);
  }

  /** A catalog of exactly these views (tests, or a program that builds its own). */
  public static ViewCatalog of(List<? extends ViewSpec<?>> views) {
    Map<String, ViewSpec<?>> byName = new LinkedHashMap<>();
    for (ViewSpec<?> spec : views) {
      String name = spec.definition().name();
      ViewSpec<?> before = byName.putIfAbsent(name, spec);
      if (before != null) {
        throw new IllegalStateException(
            "two views are named " + name + ": " + origin(before) + " and " + origin(spec));
      }
    }
    return new ViewCatalog(byName);
  }

  /** The view named {@code name}. */
  public Optional<ViewSpec<?>> spec(String name) {
    return Optional.ofNullable(specs.get(name));
  }

  /** The definition of the view named {@code name}. */
  public Optional<ViewDefinition> definition(String name) {
    return spec(name).map(ViewSpec::definition);
  }

  /** The view named {@code name}, or an error that lists the known names. */
  public ViewSpec<?> require(String name) {
    return spec(name)
        .orElseThrow(
            () -> new IllegalArgumentException("unknown view " + name + "; known: " + names()));
  }

  /** Every view's definition: the reference views first. */
  public List<ViewDefinition> definitions() {
    return specs.values().stream().map(ViewSpec::definition).collect(Collectors.toList());
  }

  /** Comma-separated names, for messages. */
  public String names() {
    return String.join(", ", specs.keySet());
  }

  /** Where a view comes from: "reference" or its provider's class. */
  public static String origin(ViewSpec<?> spec) {
    return spec instanceof Provided ? ((Provided<?>) spec).provider : "reference";
  }

  /**
   * The class that implements a plug-in's view (its code is the plug-in's, to fingerprint with
   * kappa-beam's); null for a reference view.
   */
  public static Class<?> implementation(ViewSpec<?> spec) {
    return spec instanceof Provided ? ((Provided<?>) spec).spec.getClass() : null;
  }

  private static <E> Provided<E> provided(ViewSpec<E> spec, String provider) {
    return new Provided<>(spec, provider);
  }

  /** A provider's view, remembering the provider for messages. */
  private static final class Provided<E> implements ViewSpec<E> {
    private final ViewSpec<E> spec;
    private final String provider;

    Provided(ViewSpec<E> spec, String provider) {
      this.spec = Objects.requireNonNull(spec, () -> provider + " returned a null view");
      this.provider = provider;
      Objects.requireNonNull(spec.definition(), () -> provider + ": a view without a definition");
    }

    @Override
    public ViewDefinition definition() {
      return spec.definition();
    }

    @Override
    public EventFormat<E> format() {
      return java.util.Objects.requireNonNull(
          spec.format(), () -> provider + ": view " + definition().name() + " has no event format");
    }

    @Override
    public ViewTransform<E, ?> transform(ViewParameters parameters) {
      ViewTransform<E, ?> t = spec.transform(parameters);
      if (t == null || !t.view().name().equals(definition().name())) {
        throw new IllegalStateException(
            provider + ": the transform of view " + definition().name() + " computes another view");
      }
      return t;
    }
  }
}
