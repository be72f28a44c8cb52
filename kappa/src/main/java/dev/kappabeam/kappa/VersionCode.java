package dev.kappabeam.kappa;

import dev.kappabeam.serving.CodeVersion;
import dev.kappabeam.transforms.ReferenceViews;
import dev.kappabeam.transforms.views.ViewCatalog;
import dev.kappabeam.transforms.views.ViewDefinition;
import dev.kappabeam.transforms.views.ViewParameters;
import dev.kappabeam.transforms.views.ViewSpec;

/**
 * What the registry records about the code and logic that build a view version: a new build of the
 * transforms or of the view's plug-in, or other logic parameters, is a new fingerprint, so a
 * version is never resumed or compared under code other than its own.
 */
public final class VersionCode {
  private VersionCode() {}

  /**
   * The code that builds {@code view}: kappa-beam's logic ({@code dev.kappabeam.transforms}), and
   * for a plug-in's view also the package of the plug-in's view class and, when it is elsewhere,
   * the package of its event format's class.
   */
  public static String of(ViewDefinition view) {
    String code = CodeVersion.of(ReferenceViews.class);
    ViewSpec<?> spec = ViewCatalog.current().require(view.name());
    Class<?> own = ViewCatalog.implementation(spec);
    if (own == null) {
      return code;
    }
    code = code + "/" + CodeVersion.of(own);
    Class<?> format = spec.format().getClass();
    boolean elsewhere =
        !format.getPackageName().equals(own.getPackageName())
            && !format.getPackageName().startsWith(ReferenceViews.class.getPackageName());
    return elsewhere ? code + "/" + CodeVersion.of(format) : code;
  }

  /** The version fingerprint of {@code view} built with {@code parameters} by this code. */
  public static String fingerprint(ViewDefinition view, ViewParameters parameters) {
    return CodeVersion.fingerprint(view.name(), parameters.fingerprint(), of(view));
  }
}
