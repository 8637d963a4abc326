using OrleansPgStore.Store.Connection;

namespace OrleansPgStore.Store.Journal;

/// <summary>Settings of a <see cref="JournalStore"/>.</summary>
internal sealed class JournalStoreOptions : StoreOptions
{
    /// <summary>The events table. Defaults to <c>events</c>.</summary>
    public override string Table { get; set; } = "events";

    /// <summary>
    /// How many rows a query fetches per round trip; results stream page by page, never buffered whole.
    /// Defaults to 1,000.
    /// </summary>
    public int PageSize { get; set; } = 1000;

    /// <summary>
    /// How long a forward query across streams waits for appends to this table that are still in flight below events
    /// committed before it began, before it throws <see cref="Errors.FeedNotSettledException"/> (it never returns short,
    /// and never returns an event past one that could still appear). Only appends to this events table count:
    /// transactions on other tables or databases never hold a query back. Defaults to 5 s; an append normally finishes
    /// within milliseconds, so waiting this long means one is stuck (a lock wait, a synchronous standby that is gone).
    /// </summary>
    public TimeSpan FeedSettleTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Sends a PostgreSQL NOTIFY with every commit (in the same transaction, in the same round trip), so reaction
    /// workers in other processes wake within milliseconds. Defaults to false (no per-commit cost); polling finds
    /// every commit either way.
    /// </summary>
    public bool NotifyOnCommit { get; set; }
}
