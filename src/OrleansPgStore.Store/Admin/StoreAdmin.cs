using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;
using OrleansPgStore.Store.Connection;
using OrleansPgStore.Store.Diagnostics;
using OrleansPgStore.Store.Schema;

namespace OrleansPgStore.Store.Admin;

/// <summary>
/// Read-only inspection for operators, health checks and metrics: which tables exist and how big they are, how far
/// reactions are behind, which targets are blocked. Changes go through <see cref="Leasing.LeaseStore"/> (unblock,
/// reset, defer, prioritize) and <see cref="Journal.JournalStore"/> (retention).
/// </summary>
/// <remarks>Thread-safe; every call takes a pooled connection for its duration only.</remarks>
internal sealed class StoreAdmin : IAsyncDisposable
{
    private readonly StoreConnection _store;
    private readonly AdminSql _sql;
    private readonly string[] _tables;
    private readonly string[] _quotedTables;

    /// <summary>Creates an admin over the tables named in <paramref name="options"/>.</summary>
    /// <exception cref="ArgumentException">The options are incomplete or name an invalid schema or table.</exception>
    public StoreAdmin(StoreAdminOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        StoreOptionsValidator<StoreAdminOptions>.ThrowIfInvalid(options);
        _store = new StoreConnection(options, (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("OrleansPgStore.Admin"), loggerFactory);
        var quotedSchema = _store.QuotedSchema;
        // The checkpoints table belongs to the subscriptions table: the reaction loop and retention need both.
        _tables = [options.Table, options.StateTable, options.SubscriptionsTable, CheckpointTable.Name(options.SubscriptionsTable)];
        _quotedTables = _tables.Select((t, i) => quotedSchema + "." + SqlIdentifier.Quote(t, i switch
        {
            0 => nameof(options.Table),
            1 => nameof(options.StateTable),
            _ => nameof(options.SubscriptionsTable),
        })).ToArray();
        _sql = new AdminSql(_quotedTables[0], _quotedTables[2]);
    }

    /// <summary>The subscriptions table, schema-qualified and quoted (the lag gauges' <c>table</c> tag).</summary>
    public string SubscriptionsTable => _quotedTables[2];

    /// <summary>Whether the database answers: one round trip.</summary>
    /// <exception cref="Errors.StoreOperationException">It does not (the message says why).</exception>
    public async Task PingAsync(CancellationToken cancellationToken = default)
    {
        var operation = StoreOperation.Start("admin.ping", _store);
        try
        {
            await using var command = _store.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            operation.Succeeded();
        }
        catch (Exception e)
        {
            throw Failed(ref operation, "Reaching the database", e);
        }
    }

    /// <summary>
    /// The events, durable-state and subscriptions tables and the subscriptions' checkpoints table, in that order: whether
    /// they exist, their size and row count.
    /// </summary>
    public async Task<IReadOnlyList<TableStatus>> TablesAsync(bool countRows = false, CancellationToken cancellationToken = default)
    {
        var operation = StoreOperation.Start("admin.tables", _store);
        try
        {
            var tables = new List<TableStatus>(_tables.Length);
            await using (var command = _store.CreateCommand(_sql.Tables))
            {
                command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = _quotedTables });
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                for (var i = 0; await reader.ReadAsync(cancellationToken).ConfigureAwait(false); i++)
                {
                    tables.Add(new TableStatus($"{_store.Schema}.{_tables[i]}", reader.GetBoolean(1), reader.GetInt64(2), 0));
                }
            }

            if (countRows)
            {
                for (var i = 0; i < tables.Count; i++)
                {
                    if (tables[i].Exists)
                    {
                        await using var count = _store.CreateCommand(AdminSql.Count(_quotedTables[i]));
                        tables[i] = tables[i] with { Rows = (long)(await count.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! };
                    }
                }
            }

            operation.Succeeded();
            return tables;
        }
        catch (Exception e)
        {
            throw Failed(ref operation, "Inspecting the tables", e);
        }
    }

    /// <summary>How far reaction targets are behind, per lane. Empty when there are no subscriptions (or no table).</summary>
    /// <remarks>
    /// Counts the events between each lagging target's watermark and work mark: cheap when reactions keep up, and
    /// proportional to the backlog when they do not. Hosts sample it periodically, never per request.
    /// </remarks>
    public async Task<IReadOnlyList<LaneLag>> ReactionLagAsync(CancellationToken cancellationToken = default)
    {
        var operation = StoreOperation.Start("admin.lag", _store);
        try
        {
            var tables = await TablesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            var lanes = new List<LaneLag>();
            if (tables[0].Exists && tables[2].Exists)
            {
                await using var command = _store.CreateCommand(_sql.Lag);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    lanes.Add(new LaneLag(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3),
                        reader.GetInt64(4), TimeSpan.FromSeconds(Math.Max(0, reader.GetDouble(5)))));
                }
            }

            operation.Succeeded();
            return lanes;
        }
        catch (Exception e)
        {
            throw Failed(ref operation, "Measuring reaction lag", e);
        }
    }

    /// <summary>Blocked targets by stream name, at most <paramref name="limit"/>; empty without a subscriptions table.</summary>
    public async Task<IReadOnlyList<BlockedTarget>> BlockedAsync(int limit = 100, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var operation = StoreOperation.Start("admin.blocked", _store);
        try
        {
            var blocked = new List<BlockedTarget>();
            var tables = await TablesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            if (tables[2].Exists)
            {
                await using var command = _store.CreateCommand(_sql.Blocked);
                command.Parameters.Add(new NpgsqlParameter<int> { NpgsqlDbType = NpgsqlDbType.Integer, TypedValue = limit });
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    blocked.Add(new BlockedTarget(reader.GetString(0), reader.GetString(1), reader.GetInt64(2),
                        reader.IsDBNull(3) ? null : reader.GetString(3)));
                }
            }

            operation.Succeeded();
            return blocked;
        }
        catch (Exception e)
        {
            throw Failed(ref operation, "Listing blocked targets", e);
        }
    }

    /// <summary>Everything an operator looks at first: tables, sizes, event counts, reaction lag and blocked targets.</summary>
    public async Task<StoreStatus> StatusAsync(int blockedLimit = 100, CancellationToken cancellationToken = default)
    {
        var tables = await TablesAsync(countRows: true, cancellationToken).ConfigureAwait(false);
        long events = 0, snapshots = 0;
        if (tables[0].Exists)
        {
            try
            {
                await using var command = _store.CreateCommand(_sql.EventCounts);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                (events, snapshots) = (reader.GetInt64(0), reader.GetInt64(1));
            }
            catch (Exception e)
            {
                throw _store.Translate("Counting events", e);
            }
        }

        var lanes = await ReactionLagAsync(cancellationToken).ConfigureAwait(false);
        var blocked = await BlockedAsync(blockedLimit, cancellationToken).ConfigureAwait(false);
        return new StoreStatus(_store.Database ?? "", tables, events, snapshots, lanes, blocked);
    }

    /// <summary>Disposes the data source if the admin created it from a connection string.</summary>
    public ValueTask DisposeAsync() => _store.DisposeAsync();

    private Exception Failed(ref StoreOperation operation, string what, Exception e)
    {
        var translated = _store.Translate(what, e);
        operation.Failed(translated);
        return translated;
    }
}
