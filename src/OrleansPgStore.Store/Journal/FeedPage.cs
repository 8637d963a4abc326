namespace OrleansPgStore.Store.Journal;

/// <summary>
/// A page of the settled feed across streams (<see cref="JournalStore.ReadFeedAsync(long, int, IReadOnlyCollection{string}?, CancellationToken)"/>):
/// a cursor for consumers who page the feed themselves and keep their own checkpoint.
/// </summary>
/// <remarks>
/// Remember <see cref="ContinueAfter"/> (durably, with what you did with the events) and read the next page after it:
/// no event is ever skipped, even when concurrent commits become visible out of position order.
/// </remarks>
public sealed class FeedPage
{
    internal FeedPage(IReadOnlyList<RecordedEvent> events, long after, long upTo, int limit, long fence, bool settling)
    {
        Events = events;
        SettledUpTo = fence - 1;
        Settling = settling;
        var full = events.Count >= limit;
        ContinueAfter = full ? events[^1].Position : Math.Max(after, Math.Min(upTo, SettledUpTo));
        HasMore = full || settling;
    }

    /// <summary>The events, in position order.</summary>
    public IReadOnlyList<RecordedEvent> Events { get; }

    /// <summary>
    /// Where the next page starts (pass it as <c>after</c>): the last event's position when the page is full, else
    /// <see cref="SettledUpTo"/>, so a reader moves past stretches without matching events; never below the
    /// <c>after</c> this page was read from.
    /// </summary>
    public long ContinueAfter { get; }

    /// <summary>
    /// The position just below the fence (the oldest append to this table still in flight when the page was read):
    /// every position at or below it was final, no event can still appear there.
    /// </summary>
    public long SettledUpTo { get; }

    /// <summary>
    /// True when reading on right away returns more: the page is full, or matching events are already committed past
    /// <see cref="SettledUpTo"/> and wait only for appends in flight below them (usually milliseconds). False: the reader
    /// is caught up; wait for a commit notification or poll.
    /// </summary>
    public bool HasMore { get; }

    /// <summary>Matching events are visible past the fence, held back by appends in flight below them.</summary>
    internal bool Settling { get; }
}
