namespace OrleansPgStore.Store;

/// <summary>
/// Settings of a <see cref="PgStore"/>: where its tables are, how long statements may run, and the pools' policy.
/// Set them through <see cref="PgStoreBuilder.Configure"/>; the builder checks them when it builds the store.
/// </summary>
public sealed class PgStoreOptions
{
    /// <summary>The schema holding the tables (a plain SQL identifier). Defaults to <c>public</c>.</summary>
    public string Schema { get; set; } = "public";

    /// <summary>The events table (the journal). Defaults to <c>events</c>.</summary>
    public string EventsTable { get; set; } = "events";

    /// <summary>The durable-state table. Defaults to <c>durable_state</c>.</summary>
    public string StateTable { get; set; } = "durable_state";

    /// <summary>The subscriptions table of the reaction workers (one row per target stream). Defaults to <c>subscriptions</c>.</summary>
    public string SubscriptionsTable { get; set; } = "subscriptions";

    /// <summary>
    /// How long one statement may run before it is cancelled and the call fails with an error naming the operation.
    /// Defaults to 30 seconds. How long a call may wait for a pooled connection is the connection string's
    /// <c>Timeout</c> (Npgsql's default: 15 seconds).
    /// </summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How many rows a query fetches per round trip; results stream page by page. Defaults to 1,000.</summary>
    public int PageSize { get; set; } = 1000;

    /// <summary>
    /// How long a forward query across streams waits for appends to the events table still in flight below events
    /// committed before it began, before it throws <see cref="Errors.FeedNotSettledException"/> (it never returns
    /// short). Defaults to 5 s; an append normally finishes within milliseconds.
    /// </summary>
    public TimeSpan FeedSettleTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Sends a PostgreSQL NOTIFY with every commit (same transaction, same round trip), so reaction workers in other
    /// processes wake within milliseconds. Defaults to false: polling finds every commit either way.
    /// </summary>
    public bool NotifyOnCommit { get; set; }

    /// <summary>
    /// Whether the reaction workers' lease writes (claims, acks, blocks, work marks, checkpoints) wait for their WAL
    /// flush. Defaults to false: they commit asynchronously, which halves their latency; a server crash can then forget
    /// the lease writes of its last moments, so some targets are handled again (delivery is at least once anyway).
    /// Events, durable states and operator actions always commit durably.
    /// </summary>
    public bool SynchronousLeaseWrites { get; set; }

    /// <summary>
    /// Connections kept warm for the reads a caller waits on (a stream replay, a state load), apart from the main pool,
    /// when the store builds its data source from a connection string. After a burst of writers has widened the main
    /// pool, its idle connections are taken in turn and each read would land on a cold server backend. Reads that find
    /// these all busy use the main pool. At most the connection string's <c>Maximum Pool Size</c>. 0: every read uses
    /// the main pool. Defaults to 4.
    /// </summary>
    public int WarmReadConnections { get; set; } = 4;

    /// <summary>A copy, so a built store keeps the settings it was built with.</summary>
    internal PgStoreOptions Clone() => (PgStoreOptions)MemberwiseClone();
}
