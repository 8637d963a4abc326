namespace OrleansPgStore.Store.Journal;

/// <summary>What one retention run of <see cref="JournalStore.RunRetentionAsync(RetentionRun, IProgress{RetentionProgress}?, CancellationToken)"/> does.</summary>
/// <param name="Cutoff">In each stream, history behind the newest snapshot created before this goes.</param>
internal sealed record RetentionRun(DateTimeOffset Cutoff)
{
    /// <summary>Snapshots visited per batch (one short transaction each). Defaults to 100.</summary>
    public int BatchSize { get; init; } = 100;

    /// <summary>Counts what would be deleted and withheld, deleting nothing. Defaults to false.</summary>
    public bool DryRun { get; init; }

    /// <summary>
    /// Lets retention delete events that blocked targets have not consumed yet (they skip them when unblocked): a
    /// target blocked for longer than the retention window no longer keeps history alive. Targets that are merely behind
    /// and the reaction groups' discovery checkpoints still hold their events. Defaults to false: nothing a subscription
    /// has not passed is deleted.
    /// </summary>
    public bool IgnoreBlockedTargets { get; init; }

    /// <summary>
    /// Visits only snapshots created at or after this time: the <see cref="RetentionProgress.ResumeFrom"/> of the previous
    /// run, so a run looks at the snapshots taken since instead of every stream that has one. <c>null</c> (the default)
    /// visits every snapshot older than the cutoff.
    /// </summary>
    public DateTimeOffset? SnapshotsSince { get; init; }
}
