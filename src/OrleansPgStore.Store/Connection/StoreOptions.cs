using Npgsql;

namespace OrleansPgStore.Store.Connection;

/// <summary>Settings every store shares: where the database is, and which schema and table to use.</summary>
internal abstract class StoreOptions
{
    /// <summary>
    /// The Npgsql connection string. Set this or <see cref="DataSource"/>, not both. The store then builds and
    /// owns its own <see cref="NpgsqlDataSource"/> (and pool). Never logged.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// A data source shared with other components. Set this or <see cref="ConnectionString"/>, not both.
    /// The store does not dispose it.
    /// </summary>
    public NpgsqlDataSource? DataSource { get; set; }

    /// <summary>The schema holding the store's table. Defaults to <c>public</c>.</summary>
    public string Schema { get; set; } = "public";

    /// <summary>The store's table name, unquoted. Each store type has its own default.</summary>
    public abstract string Table { get; set; }

    /// <summary>
    /// How long one statement may run before it is cancelled and the call fails with an error naming the
    /// operation. Defaults to 30 seconds. How long a call may wait for a pooled connection is the
    /// connection string's <c>Timeout</c> (Npgsql's default: 15 seconds).
    /// </summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
