namespace OrleansPgStore.Store.Journal;

/// <summary>
/// What rebuilding a stream's state needs of one stored row: its version, name and payload. Read by
/// <see cref="JournalStore.ReplayAsync"/>, which leaves out the columns a replay never looks at.
/// </summary>
/// <param name="Version">The event's version (a snapshot's: the version of the last event it covers).</param>
/// <param name="Name">The event's name; <see cref="JournalStore.SnapshotName"/> or <see cref="JournalStore.TombstoneName"/> for snapshots.</param>
/// <param name="Json">The payload as JSON text (a snapshot's state; <c>null</c> JSON for a tombstone).</param>
/// <param name="IsSnapshot">True for a snapshot or tombstone.</param>
internal readonly record struct ReplayEntry(long Version, string Name, string Json, bool IsSnapshot)
{
    /// <summary>True for the tombstone a full truncation without a snapshot leaves behind.</summary>
    public bool IsTombstone => IsSnapshot && Name == JournalStore.TombstoneName;
}
