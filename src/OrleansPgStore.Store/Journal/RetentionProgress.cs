namespace OrleansPgStore.Store.Journal;

/// <summary>Where a retention run is: reported after every batch of streams.</summary>
/// <param name="StreamsDone">Streams trimmed so far.</param>
/// <param name="StreamsTotal">Streams with a snapshot before the cutoff when the run started.</param>
/// <param name="RowsDeleted">Events and older snapshots deleted so far.</param>
public sealed record RetentionProgress(long StreamsDone, long StreamsTotal, long RowsDeleted);
