namespace OrleansPgStore.Cli;

/// <summary>What the commands of one run share: the common options and where to write.</summary>
internal sealed record CliIo(CliOptions Options, TextWriter Output, TextWriter Error);
