using OrleansPgStore.Store.Journal;

namespace OrleansPgStore.Options;

/// <summary>Settings of a PostgreSQL log-consistency provider (<c>AddPostgresLogConsistencyProvider</c>).</summary>
internal sealed class PostgresLogConsistencyOptions : PostgresStoreOptions, IPostgresJournalSettings
{
    /// <summary>The events table. Defaults to <c>events</c>.</summary>
    public string Table { get; set; } = "events";

    /// <inheritdoc/>
    public string StreamPrefix { get; set; } = "";

    /// <inheritdoc/>
    public int SnapshotInterval { get; set; } = PostgresJournalOptions.DefaultSnapshotInterval;

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
}
