package dev.kappabeam.cli;

import picocli.CommandLine.Option;

/**
 * {@code -h, --help} alone, for commands whose own {@code --version} (a view version) leaves no
 * room for picocli's standard help mixin: with both, picocli dropped the help option's meaning and
 * {@code kb run --help} reported the missing required options instead of printing the help.
 */
final class HelpOption {
  @Option(
      names = {"-h", "--help"},
      usageHelp = true,
      description = "Show this help message and exit.")
  boolean help;
}
