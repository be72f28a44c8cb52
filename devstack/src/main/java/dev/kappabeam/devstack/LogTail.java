package dev.kappabeam.devstack;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;

/** Reads the last lines of a log file for error messages. */
final class LogTail {
  private static final int MAX_BYTES = 64 * 1024;

  private LogTail() {}

  /**
   * Returns the last {@code lines} lines of {@code file}, or a note when it does not exist. Reads
   * at most the last 64 KiB so a large log costs nothing.
   */
  static String of(Path file, int lines) {
    if (!Files.isRegularFile(file)) {
      return "(" + file + " does not exist)";
    }
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
      long length = raf.length();
      long start = Math.max(0, length - MAX_BYTES);
      byte[] bytes = new byte[(int) (length - start)];
      raf.seek(start);
      raf.readFully(bytes);
      String[] all = new String(bytes, StandardCharsets.UTF_8).split("\\R");
      Deque<String> last = new ArrayDeque<>();
      // The first line may be cut by the 64 KiB window, so it is only used for short files.
      for (int i = start > 0 ? 1 : 0; i < all.length; i++) {
        last.addLast(all[i]);
        if (last.size() > lines) {
          last.removeFirst();
        }
      }
      return last.isEmpty() ? "(" + file + " is empty)" : String.join(System.lineSeparator(), last);
    } catch (IOException e) {
      return "(could not read " + file + ": " + e.getMessage() + ")";
    }
  }
}
