using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using OrleansPgStore.Store.Connection;

namespace OrleansPgStore.Store;

/// <summary>
/// Builds a <see cref="PgStore"/> once, from a connection string (the store then owns its pools) or from an
/// <see cref="NpgsqlDataSource"/> you keep (the store never disposes it), as <see cref="NpgsqlDataSourceBuilder"/>
/// builds a data source.
/// </summary>
/// <example><code>
/// await using var store = new PgStoreBuilder(connectionString).Configure(o => o.Schema = "bank").Build();
/// await store.SeedAsync();
/// </code></example>
public sealed class PgStoreBuilder
{
    private readonly string? _connectionString;
    private readonly NpgsqlDataSource? _dataSource;
    private readonly PgStoreOptions _options = new();
    private ILoggerFactory _loggerFactory = NullLoggerFactory.Instance;

    /// <summary>A store on its own data source for <paramref name="connectionString"/> (never logged).</summary>
    public PgStoreBuilder(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        _connectionString = connectionString;
    }

    /// <summary>A store on <paramref name="dataSource"/>, shared with the application; the store never disposes it.</summary>
    public PgStoreBuilder(NpgsqlDataSource dataSource)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        _dataSource = dataSource;
    }

    /// <summary>Changes the settings; may be called several times.</summary>
    public PgStoreBuilder Configure(Action<PgStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        configure(_options);
        return this;
    }

    /// <summary>Where the stores and (for a data source the store builds) Npgsql log. Nowhere by default.</summary>
    public PgStoreBuilder UseLoggerFactory(ILoggerFactory? loggerFactory)
    {
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        return this;
    }

    /// <summary>
    /// Whether the data source the store builds prepares the replay and state-load statements on every connection it
    /// opens. On by default; the plugin's single-table providers turn it off.
    /// </summary>
    internal bool WarmUpConnections { get; set; } = true;

    /// <summary>Checks the settings and builds the store; no I/O (the tables are created by <see cref="PgStore.SeedAsync"/>).</summary>
    /// <exception cref="ArgumentException">A setting is wrong; the message names every one.</exception>
    public PgStore Build()
    {
        var failures = Check(_options);
        if (failures.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", failures));
        }

        return new PgStore(_connectionString, _dataSource, _options.Clone(), WarmUpConnections, _loggerFactory);
    }

    /// <summary>The problems with <paramref name="options"/>, each naming its setting; empty when they are usable.</summary>
    internal static IReadOnlyList<string> Check(PgStoreOptions options)
    {
        var failures = new List<string>();
        Identifier(options.Schema, nameof(options.Schema));
        Identifier(options.EventsTable, nameof(options.EventsTable));
        Identifier(options.StateTable, nameof(options.StateTable));
        Identifier(options.SubscriptionsTable, nameof(options.SubscriptionsTable));
        if (options.CommandTimeout <= TimeSpan.Zero)
        {
            failures.Add($"PgStoreOptions.CommandTimeout must be positive (was {options.CommandTimeout}).");
        }

        if (options.PageSize <= 0)
        {
            failures.Add($"PgStoreOptions.PageSize must be positive (was {options.PageSize}).");
        }

        if (options.FeedSettleTimeout < TimeSpan.Zero)
        {
            failures.Add($"PgStoreOptions.FeedSettleTimeout must not be negative (was {options.FeedSettleTimeout}).");
        }

        if (options.WarmReadConnections < 0)
        {
            failures.Add($"PgStoreOptions.WarmReadConnections must be 0 (every read uses the main pool) or more (was {options.WarmReadConnections}).");
        }

        return failures;

        void Identifier(string? value, string setting)
        {
            try
            {
                SqlIdentifier.Validate(value, "PgStoreOptions." + setting);
            }
            catch (ArgumentException e)
            {
                failures.Add(e.Message.Split(" (Parameter", 2)[0]);
            }
        }
    }
}
