namespace OrleansPgStore.Cli;

/// <summary>What a command was asked about does not exist (exit code <see cref="ExitCodes.NotFound"/>).</summary>
internal sealed class CliNotFoundException(string message) : Exception(message);
