namespace OrleansPgStore.Cli;

/// <summary>A command line that parsed but cannot be run as given (exit code <see cref="ExitCodes.Usage"/>).</summary>
internal sealed class CliUsageException(string message) : Exception(message);
