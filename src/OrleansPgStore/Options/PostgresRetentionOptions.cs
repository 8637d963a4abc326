namespace OrleansPgStore.Options;

/// <summary>
/// Windowed retention run by every silo on a schedule: in each stream, the events (and older snapshots) covered by
/// the newest snapshot older than <see cref="KeepFor"/> are deleted. Off by default.
/// </summary>
/// <remarks>
/// Grains keep working throughout: activation reads the newest snapshot and the events after it, which retention
/// never removes, and each batch is a short transaction of its own. What goes: the history behind old snapshots, so
/// <c>RetrieveConfirmedEvents</c> of old versions fails, and deleted events leave the global feed (reactions that
/// are further behind than <see cref="KeepFor"/> miss them). Concurrent runs on several silos are safe (a row is
/// deleted once); each silo starts its schedule at a random point of the first interval to spread them out.
/// </remarks>
public sealed class PostgresRetentionOptions
{
    /// <summary>
    /// How long history stays behind a snapshot; <c>null</c> turns retention off. Defaults to <c>null</c>.
    /// </summary>
    public TimeSpan? KeepFor { get; set; }

    /// <summary>How often retention runs. Defaults to 1 hour.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How many streams one batch (one transaction) trims. Defaults to 100.</summary>
    public int BatchSize { get; set; } = 100;
}
