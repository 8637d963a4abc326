using OrleansPgStore.Store.Journal;

namespace OrleansPgStore.Options;

/// <summary>
/// Settings of <c>AddPostgresJournal</c>: one PostgreSQL database (one connection pool) serving the journal of
/// JournaledGrains and the grain storage of <c>[PersistentState]</c> grains.
/// </summary>
/// <remarks>
/// Binds from configuration, e.g. <c>{ "ConnectionString": "…", "Schema": "app", "SnapshotInterval": 50,
/// "SnapshotIntervals": { "account": 20 } }</c>; <see cref="TypeNames"/> and the JSON options are set in code.
/// </remarks>
public sealed class PostgresJournalOptions : PostgresStoreOptions, IPostgresJournalSettings
{
    /// <summary>The provider name <c>AddPostgresJournal</c> uses when none is given.</summary>
    public const string DefaultName = "Postgres";

    /// <summary>The default of <see cref="SnapshotInterval"/>.</summary>
    public const int DefaultSnapshotInterval = 100;

    /// <summary>The events table (the journal). Defaults to <c>events</c>.</summary>
    public string EventsTable { get; set; } = "events";

    /// <summary>The durable-state table (grain storage). Defaults to <c>durable_state</c>.</summary>
    public string StateTable { get; set; } = "durable_state";

    /// <inheritdoc/>
    public string StreamPrefix { get; set; } = "";

    /// <inheritdoc/>
    public int SnapshotInterval { get; set; } = DefaultSnapshotInterval;

    /// <inheritdoc/>
    public Dictionary<string, int> SnapshotIntervals { get; } = new(StringComparer.Ordinal);

    /// <inheritdoc/>
    public Dictionary<Type, string> TypeNames { get; } = [];

    /// <inheritdoc/>
    public EventUpcasters Upcasters { get; } = new();

    /// <inheritdoc/>
    public TimeSpan ReadRetryTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <inheritdoc/>
    public TimeSpan WriteRetryTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Connections kept warm for the reads an activation waits on (a JournaledGrain's replay, and every grain state load),
    /// apart from the main pool, when the registration creates its data source from <c>ConnectionString</c>. A few
    /// connections used over and over stay warm on the server; after a burst of writers has widened the main pool, its
    /// idle connections are taken in turn and each read would land on a cold one. Reads that find these all busy use
    /// the main pool. The connection string bounds this pool: at most its <c>Maximum Pool Size</c> connections, and its
    /// <c>Minimum Pool Size</c> capped at that count. 0: these reads share the main pool. Defaults to 4.
    /// </summary>
    public int WarmReadConnections { get; set; } = 4;

    /// <summary>Reactions and projections over the events, and the workers that run them. None by default.</summary>
    public PostgresReactionOptions Reactions { get; } = new();

    /// <summary>Scheduled trimming of history behind snapshots. Off by default.</summary>
    public PostgresRetentionOptions Retention { get; } = new();
}
