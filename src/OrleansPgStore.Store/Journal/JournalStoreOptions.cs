using OrleansPgStore.Store.Connection;

namespace OrleansPgStore.Store.Journal;

/// <summary>Settings of a <see cref="JournalStore"/>.</summary>
public sealed class JournalStoreOptions : StoreOptions
{
    /// <summary>The events table. Defaults to <c>events</c>.</summary>
    public override string Table { get; set; } = "events";

    /// <summary>
    /// How many rows a query fetches per round trip; results stream page by page, never buffered whole.
    /// Defaults to 1,000.
    /// </summary>
    public int PageSize { get; set; } = 1000;

    /// <summary>
    /// How long a forward read across streams waits for commits that are still in flight below newer, already
    /// visible events before it returns what is settled (it never returns an event past one that could still
    /// appear). Defaults to 250 ms. Zero returns the settled prefix at once.
    /// </summary>
    public TimeSpan FeedSettleTimeout { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Sends a PostgreSQL NOTIFY with every commit (in the same transaction, in the same round trip), so reaction
    /// workers in other processes wake within milliseconds. Defaults to false (no per-commit cost); polling finds
    /// every commit either way.
    /// </summary>
    public bool NotifyOnCommit { get; set; }
}
