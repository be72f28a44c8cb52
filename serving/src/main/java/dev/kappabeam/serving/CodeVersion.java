package dev.kappabeam.serving;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HexFormat;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * Identifies the code that builds a view: a SHA-256 over the {@code .class} files of the package
 * tree of an anchor class (for kappa-beam, {@code dev.kappabeam.transforms}, the business logic),
 * read from the jar or the classes folder it was loaded from, in name order. The same sources
 * compile to the same bytes, so the hash changes when the logic changes and not on a rebuild; it
 * does not depend on a version number someone must remember to bump.
 */
public final class CodeVersion {
  private CodeVersion() {}

  /**
   * {@code <implementation version or "dev">+<first 12 hex digits of the hash>}, e.g. {@code
   * 0.1.0+3f2a9c0d11be}; {@code unknown} if the classes cannot be read.
   */
  public static String of(Class<?> anchor) {
    String impl = anchor.getPackage().getImplementationVersion();
    String prefix = impl == null ? "dev" : impl;
    try {
      return prefix + "+" + hash(anchor).substring(0, 12);
    } catch (IOException | URISyntaxException | RuntimeException e) {
      return prefix + "+unknown";
    }
  }

  static String hash(Class<?> anchor) throws IOException, URISyntaxException {
    String pkgPath = anchor.getPackageName().replace('.', '/') + "/";
    Path location = Path.of(anchor.getProtectionDomain().getCodeSource().getLocation().toURI());
    MessageDigest sha = sha256();
    if (Files.isDirectory(location)) {
      Path root = location.resolve(pkgPath);
      List<Path> files = new ArrayList<>();
      try (Stream<Path> walk = Files.walk(root)) {
        walk.filter(p -> p.toString().endsWith(".class")).forEach(files::add);
      }
      files.sort((a, b) -> root.relativize(a).toString().compareTo(root.relativize(b).toString()));
      for (Path f : files) {
        sha.update(root.relativize(f).toString().replace('\\', '/').getBytes());
        sha.update(Files.readAllBytes(f));
      }
    } else {
      try (JarFile jar = new JarFile(location.toFile())) {
        List<JarEntry> entries = new ArrayList<>();
        for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
          JarEntry je = e.nextElement();
          if (je.getName().startsWith(pkgPath) && je.getName().endsWith(".class")) {
            entries.add(je);
          }
        }
        entries.sort((a, b) -> a.getName().compareTo(b.getName()));
        for (JarEntry je : entries) {
          sha.update(je.getName().substring(pkgPath.length()).getBytes());
          try (InputStream in = jar.getInputStream(je)) {
            sha.update(in.readAllBytes());
          }
        }
      }
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  /** A short, stable hash of the given parts (used for version fingerprints). */
  public static String fingerprint(String... parts) {
    MessageDigest sha = sha256();
    for (String p : parts) {
      sha.update(String.valueOf(p).getBytes(java.nio.charset.StandardCharsets.UTF_8));
      sha.update((byte) 0);
    }
    return HexFormat.of().formatHex(sha.digest()).substring(0, 12);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("no SHA-256 in this JVM", e);
    }
  }
}
