package dev.kappabeam.devstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/** Loopback port helpers shared by the stack and its control commands. */
final class Net {
  /** The only address the stack binds to and advertises. */
  static final String HOST = "127.0.0.1";

  private Net() {}

  /**
   * Returns a port that is free on the loopback address right now. Another process may take it
   * before the caller binds it; that race is accepted for a development stack.
   */
  static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("Could not find a free port on " + HOST, e);
    }
  }

  /** Returns whether something accepts TCP connections on the loopback port. */
  static boolean isListening(int port, int timeoutMillis) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(HOST, port), timeoutMillis);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Returns whether the loopback port can be bound, i.e. nothing listens on it. */
  static boolean isFree(int port) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(HOST, port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
