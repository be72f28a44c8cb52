package com.example.orders;

import dev.kappabeam.transforms.views.ViewProvider;
import java.io.IOException;
import java.net.URL;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * A build of this plug-in, as a test can hold two of them in one JVM. kappa-beam finds views in the
 * catalog of the thread's context class loader ({@code ViewCatalog.current()}, by {@link
 * java.util.ServiceLoader}), and records the code of the view class that catalog names; {@code kb
 * --plugin new.jar} gives it a new build. Here the next build is the test class path with another
 * services file: the same classes, but only the providers that file names.
 */
final class PluginBuild {
  static final String SERVICES = "META-INF/services/" + ViewProvider.class.getName();

  private PluginBuild() {}

  /** The class path whose view providers are those named in the resource {@code services}. */
  static ClassLoader withProviders(String name, String services) {
    ClassLoader parent = PluginBuild.class.getClassLoader();
    URL file = parent.getResource(services);
    if (file == null) {
      throw new IllegalStateException(services + " is not on the test class path");
    }
    return new ClassLoader(name, parent) {
      @Override
      public Enumeration<URL> getResources(String resource) throws IOException {
        return SERVICES.equals(resource)
            ? Collections.enumeration(List.of(file))
            : super.getResources(resource);
      }
    };
  }

  /** Runs {@code body} on this thread with {@code build}'s catalog. */
  static <T> T with(ClassLoader build, Callable<T> body) throws Exception {
    Thread t = Thread.currentThread();
    ClassLoader before = t.getContextClassLoader();
    t.setContextClassLoader(build);
    try {
      return body.call();
    } finally {
      t.setContextClassLoader(before);
    }
  }
}
