namespace OrleansPgStore.Options;

/// <summary>Settings of a PostgreSQL grain storage provider (<c>AddPostgresGrainStorage</c>).</summary>
internal sealed class PostgresGrainStorageOptions : PostgresStoreOptions
{
    /// <summary>The durable-state table, one row per grain state. Defaults to <c>durable_state</c>.</summary>
    public string Table { get; set; } = "durable_state";
}
