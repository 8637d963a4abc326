using System.Text.Json;
using Npgsql;
using Orleans;
using Orleans.Runtime;

namespace OrleansPgStore.Options;

/// <summary>Settings every PostgreSQL provider shares: where the database is, the schema, timeouts and JSON.</summary>
public abstract class PostgresStoreOptions
{
    /// <summary>
    /// The Npgsql connection string. Set this or <see cref="DataSource"/>, not both. The provider then builds and
    /// owns its own <see cref="NpgsqlDataSource"/> (one connection pool), disposed with the silo. Never logged.
    /// </summary>
    [Redact]
    public string? ConnectionString { get; set; }

    /// <summary>
    /// A data source shared with the application. Set this or <see cref="ConnectionString"/>, not both. The provider
    /// never disposes it.
    /// </summary>
    [Redact]
    public NpgsqlDataSource? DataSource { get; set; }

    /// <summary>The schema holding the provider's tables. Defaults to <c>public</c>.</summary>
    public string Schema { get; set; } = "public";

    /// <summary>
    /// How long one statement may run before it fails with an error naming the operation. Defaults to 30 seconds.
    /// </summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Whether the silo creates the schema and tables (idempotently) when it starts. Defaults to <c>true</c>.
    /// Turn it off when a DBA applies <c>silo-config/sql/*.sql</c> by hand and the silo's role may not run DDL.
    /// </summary>
    public bool SeedSchema { get; set; } = true;

    /// <summary>
    /// The silo lifecycle stage at which the schema is seeded. Defaults to
    /// <see cref="ServiceLifecycleStage.ApplicationServices"/>, before any application grain is activated.
    /// </summary>
    public int InitStage { get; set; } = ServiceLifecycleStage.ApplicationServices;

    /// <summary>
    /// How events and states become <c>jsonb</c>. Defaults to <see cref="JsonSerializerDefaults.Web"/>
    /// (camelCase names, case-insensitive reads), so payloads read naturally in SQL.
    /// </summary>
    public JsonSerializerOptions JsonSerializerOptions { get; set; } = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Whether reads are strict: a stored member the type does not know, or a missing required member (C#
    /// <c>required</c>, or a constructor parameter without a default), fails the read with a message naming it, instead of
    /// being skipped or defaulted. Defaults to <c>true</c>. See <see cref="TolerantReadTypes"/> for exceptions per type.
    /// </summary>
    public bool StrictReads { get; set; } = true;

    /// <summary>
    /// Types read tolerantly even when <see cref="StrictReads"/> is on: stored members they do not know are skipped.
    /// Empty by default; <c>[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]</c> on a type does the same.
    /// </summary>
    public HashSet<Type> TolerantReadTypes { get; } = [];
}
