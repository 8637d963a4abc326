namespace OrleansPgStore.Store.Journal;

/// <summary>The outcome of <see cref="JournalStore.RebasePositionsAsync"/>.</summary>
/// <param name="PreviousOffset">The position offset (in transaction ids) before the call.</param>
/// <param name="Offset">The offset now in force; equal to <paramref name="PreviousOffset"/> when nothing had regressed.</param>
internal sealed record PositionRebase(long PreviousOffset, long Offset)
{
    /// <summary>True when the offset was raised.</summary>
    public bool Changed => Offset != PreviousOffset;
}
