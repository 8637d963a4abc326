namespace OrleansPgStore.Cli;

/// <summary>What the tool's exit code means, for scripts.</summary>
internal static class ExitCodes
{
    /// <summary>Done; nothing needs attention.</summary>
    public const int Ok = 0;

    /// <summary>The command line was wrong (unknown command or option, a missing or malformed value).</summary>
    public const int Usage = 1;

    /// <summary>The operation failed: the database could not be reached, a statement failed, a table is missing.</summary>
    public const int Failed = 2;

    /// <summary>It worked, and what it found needs a person: <c>status</c> saw blocked targets or missing tables.</summary>
    public const int Attention = 3;

    /// <summary>What the command was asked about does not exist (e.g. <c>stream show</c> of a stream with no events).</summary>
    public const int NotFound = 4;
}
