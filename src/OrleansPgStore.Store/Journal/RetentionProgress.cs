namespace OrleansPgStore.Store.Journal;

/// <summary>Where a retention run is: reported after every batch.</summary>
/// <param name="StreamsDone">Streams visited so far.</param>
/// <param name="StreamsTotal">Streams with a snapshot to visit when the run started.</param>
/// <param name="RowsDeleted">Events and older snapshots deleted so far (in a dry run: that would be deleted).</param>
internal sealed record RetentionProgress(long StreamsDone, long StreamsTotal, long RowsDeleted)
{
    /// <summary>Whether the run deleted nothing, only counted (<see cref="RetentionRun.DryRun"/>).</summary>
    public bool DryRun { get; init; }

    /// <summary>Events behind old snapshots kept because a subscription has not passed them yet.</summary>
    public long RowsWithheld { get; init; }

    /// <summary>Streams in which some events were kept for a subscription.</summary>
    public long StreamsWithheld { get; init; }

    /// <summary>The subscription with the lowest watermark among those that kept events, if any did.</summary>
    public RetentionHolder? OldestHolder { get; init; }

    /// <summary>
    /// Events deleted although a blocked target had not consumed them (only with
    /// <see cref="RetentionRun.IgnoreBlockedTargets"/>); included in <see cref="RowsDeleted"/>.
    /// </summary>
    public long UnconsumedDeleted { get; init; }

    /// <summary>
    /// Where the next run may start (<see cref="RetentionRun.SnapshotsSince"/>): shortly (10 minutes, for snapshots
    /// committing meanwhile) before the cutoff, or earlier at the age of the oldest snapshot whose stream still holds
    /// withheld events. <c>null</c> until the run completes, and after a dry run.
    /// </summary>
    public DateTimeOffset? ResumeFrom { get; init; }
}
