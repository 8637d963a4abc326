namespace OrleansPgStore.Store.Reactions;

/// <summary>How far a rebuild's replay has come.</summary>
/// <param name="Done">Events replayed so far (counted from the journal below the targets' watermarks).</param>
/// <param name="Total">Events to replay: the events the rebuilt targets had to handle when the reset committed.</param>
/// <param name="Targets">How many targets were reset.</param>
public sealed record RebuildProgress(long Done, long Total, int Targets);
