namespace OrleansPgStore.Store.Diagnostics;

/// <summary>How to log a failure of a run (see <see cref="Outage"/>).</summary>
internal enum OutageStep
{
    /// <summary>The first failure: a Warning with the stack.</summary>
    First,

    /// <summary>A later failure: a Debug line that counts.</summary>
    Again,

    /// <summary>The run has lasted past <see cref="Outage.WorthAnError"/>: one Error.</summary>
    Lasting,
}
