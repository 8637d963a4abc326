namespace OrleansPgStore.Options;

/// <summary>
/// Windowed retention on a schedule: in each stream, the events (and older snapshots) covered by the newest snapshot
/// older than <see cref="KeepFor"/> are deleted, except events a subscription has not passed yet. Off by default.
/// </summary>
/// <remarks>
/// Grains keep working throughout: activation reads the newest snapshot and the events after it, which retention
/// never removes, and each batch is a short transaction of its own. What goes: the history behind old snapshots, so
/// <c>RetrieveConfirmedEvents</c> of old versions fails. Events that a reaction target (blocked or behind) or a
/// reaction group's discovery has not passed are kept, logged as a warning and counted
/// (<c>orleanspgstore.journal.retention.withheld</c>) until they are consumed; see <see cref="IgnoreBlockedTargets"/>.
/// Every silo runs the schedule, but one run per <see cref="Interval"/> trims (a turn taken in the subscriptions table),
/// and a run visits only the snapshots taken since the previous run and the streams it had to hold back.
/// </remarks>
public sealed class PostgresRetentionOptions
{
    /// <summary>
    /// How long history stays behind a snapshot; <c>null</c> turns retention off. Defaults to <c>null</c>.
    /// </summary>
    public TimeSpan? KeepFor { get; set; }

    /// <summary>How often retention runs. Defaults to 1 hour.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How many snapshots (so at most that many streams) one batch (one transaction) visits. Defaults to 100.</summary>
    public int BatchSize { get; set; } = 100;

    /// <summary>
    /// Lets retention delete events that blocked targets have not consumed yet: they skip those events when unblocked
    /// (each run that does so logs a warning with the count). Targets that are merely behind, and the reactions'
    /// discovery, still keep what they have not passed. Defaults to false: a blocked target keeps its events until it
    /// is unblocked and catches up (or is reset).
    /// </summary>
    public bool IgnoreBlockedTargets { get; set; }
}
