using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;
using OrleansPgStore.Store.Clustering;
using OrleansPgStore.Store.Connection;
using OrleansPgStore.Store.Diagnostics;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Schema;

namespace OrleansPgStore.Store.Reminders;

/// <summary>
/// The reminders of one or more services: a row per (grain, reminder name), found by grain or by a range of the
/// grain hash ring, written with a fresh ETag each time and deleted only under the ETag the caller read.
/// </summary>
/// <remarks>Thread-safe; create one per table and share it. Every call is one statement.</remarks>
internal sealed class ReminderStore : IAsyncDisposable
{
    private readonly StoreConnection _store;
    private readonly ReminderSql _sql;
    private readonly string _ddl;

    public ReminderStore(ReminderStoreOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        StoreOptionsValidator<ReminderStoreOptions>.ThrowIfInvalid(options);
        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("OrleansPgStore.Reminders");
        _store = new StoreConnection(options, logger, loggerFactory);
        _sql = new ReminderSql(_store.QualifiedTable, ReminderSchema.Sequence(_store.QuotedSchema, options.Table));
        _ddl = ReminderSchema.Create(_store.QuotedSchema, options.Table);
    }

    /// <summary>The schema-qualified, quoted reminders table.</summary>
    public string QualifiedTable => _store.QualifiedTable;

    /// <summary>Creates the schema (if missing), the table and its sequence. Idempotent; safe from many silos at once.</summary>
    public Task SeedAsync(CancellationToken cancellationToken = default)
        => SchemaInstaller.SeedAsync(_store, _ddl, cancellationToken);

    /// <summary>The SQL <see cref="SeedAsync"/> applies, for DBAs who create schemas by hand.</summary>
    public static string SchemaSql(string schema = "public", string table = "orleans_reminders")
    {
        var quotedSchema = SqlIdentifier.Quote(schema, nameof(schema));
        return $"CREATE SCHEMA IF NOT EXISTS {quotedSchema};\n{ReminderSchema.Create(quotedSchema, table)}\n";
    }

    /// <summary>The reminders of one grain.</summary>
    public Task<IReadOnlyList<ReminderRow>> ReadGrainAsync(string serviceId, string grainId, CancellationToken cancellationToken = default)
    {
        Validate(serviceId, grainId);
        return ReadAsync("reminders.read_grain", $"Reading the reminders of grain '{Shorten(grainId)}'", _sql.ReadGrain, cancellationToken, Text(serviceId), Text(grainId));
    }

    /// <summary>
    /// The reminders whose grain hash lies in the ring range (<paramref name="begin"/>, <paramref name="end"/>]: when
    /// <paramref name="begin"/> &gt;= <paramref name="end"/> the range wraps past the top of the ring (hash &gt; begin or
    /// hash &lt;= end), so begin = end is the whole ring.
    /// </summary>
    public Task<IReadOnlyList<ReminderRow>> ReadRangeAsync(string serviceId, uint begin, uint end, CancellationToken cancellationToken = default)
    {
        InputChecks.Key(serviceId, "Service id", nameof(serviceId));
        return ReadAsync(
            "reminders.read_range",
            $"Reading the reminders in ring range ({begin}, {end}]",
            begin < end ? _sql.ReadRange : _sql.ReadWrappedRange,
            cancellationToken,
            Text(serviceId), Long(begin), Long(end));
    }

    /// <summary>One reminder, or <c>null</c> when there is none.</summary>
    public async Task<ReminderRow?> ReadAsync(string serviceId, string grainId, string name, CancellationToken cancellationToken = default)
    {
        Validate(serviceId, grainId, name);
        var rows = await ReadAsync(
            "reminders.read", $"Reading reminder '{Shorten(name)}' of grain '{Shorten(grainId)}'", _sql.ReadOne, cancellationToken,
            Text(serviceId), Text(grainId), Text(name)).ConfigureAwait(false);
        return rows.Count == 0 ? null : rows[0];
    }

    /// <summary>Writes a reminder, whether or not it exists, and returns its new ETag.</summary>
    public async Task<long> UpsertAsync(
        string serviceId, string grainId, string name, uint grainHash, DateTime startAt, TimeSpan period, CancellationToken cancellationToken = default)
    {
        Validate(serviceId, grainId, name);
        var what = $"Writing reminder '{Shorten(name)}' of grain '{Shorten(grainId)}'";
        var operation = StoreOperation.Start("reminders.upsert", _store, grainId);
        try
        {
            await using var prepared = await _store.PrepareAsync(
                _sql.Upsert, cancellationToken, Text(serviceId), Text(grainId), Text(name), Long(grainHash),
                new NpgsqlParameter<DateTime> { NpgsqlDbType = NpgsqlDbType.TimestampTz, TypedValue = MembershipStore.ToUtc(startAt) },
                Long(period.Ticks)).ConfigureAwait(false);
            var etag = (long)(await prepared.Command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            operation.Succeeded();
            return etag;
        }
        catch (Exception e)
        {
            var translated = _store.Translate(what, e);
            operation.Failed(translated);
            throw translated;
        }
    }

    /// <summary>Deletes a reminder if it still has the ETag <paramref name="etag"/>.</summary>
    /// <returns>True when it was deleted; false when it does not exist or has another ETag.</returns>
    public async Task<bool> DeleteAsync(string serviceId, string grainId, string name, long etag, CancellationToken cancellationToken = default)
    {
        Validate(serviceId, grainId, name);
        var deleted = await ExecuteAsync(
            "reminders.delete", $"Deleting reminder '{Shorten(name)}' of grain '{Shorten(grainId)}'", _sql.Delete, cancellationToken,
            Text(serviceId), Text(grainId), Text(name), Long(etag)).ConfigureAwait(false);
        return deleted > 0;
    }

    /// <summary>Deletes every reminder of <paramref name="serviceId"/>.</summary>
    public Task<int> DeleteServiceAsync(string serviceId, CancellationToken cancellationToken = default)
    {
        InputChecks.Key(serviceId, "Service id", nameof(serviceId));
        return ExecuteAsync("reminders.clear", $"Deleting the reminders of service '{Shorten(serviceId)}'", _sql.DeleteService, cancellationToken, Text(serviceId));
    }

    /// <summary>Disposes the data source if the store created it from a connection string.</summary>
    public ValueTask DisposeAsync() => _store.DisposeAsync();

    private async Task<IReadOnlyList<ReminderRow>> ReadAsync(
        string name, string what, string sql, CancellationToken cancellationToken, params NpgsqlParameter[] parameters)
    {
        var operation = StoreOperation.Start(name, _store);
        try
        {
            await using var prepared = await _store.PrepareAsync(sql, cancellationToken, parameters).ConfigureAwait(false);
            await using var reader = await prepared.Command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var rows = new List<ReminderRow>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add(new ReminderRow(
                    reader.GetString(0),
                    reader.GetString(1),
                    checked((uint)reader.GetInt64(2)),
                    reader.GetFieldValue<DateTime>(3),
                    TimeSpan.FromTicks(reader.GetInt64(4)),
                    reader.GetInt64(5)));
            }

            operation.Succeeded();
            return rows;
        }
        catch (Exception e)
        {
            var translated = _store.Translate(what, e);
            operation.Failed(translated);
            throw translated;
        }
    }

    private async Task<int> ExecuteAsync(string name, string what, string sql, CancellationToken cancellationToken, params NpgsqlParameter[] parameters)
    {
        var operation = StoreOperation.Start(name, _store);
        try
        {
            await using var prepared = await _store.PrepareAsync(sql, cancellationToken, parameters).ConfigureAwait(false);
            var affected = await prepared.Command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            operation.Succeeded();
            return affected;
        }
        catch (Exception e)
        {
            var translated = _store.Translate(what, e);
            operation.Failed(translated);
            throw translated;
        }
    }

    private static void Validate(string serviceId, string grainId)
    {
        InputChecks.Key(serviceId, "Service id", nameof(serviceId));
        InputChecks.Key(grainId, "Grain id", nameof(grainId));
    }

    private static void Validate(string serviceId, string grainId, string name)
    {
        Validate(serviceId, grainId);
        InputChecks.Key(name, "Reminder name", nameof(name));
    }

    private static string Shorten(string value) => InputChecks.Shorten(value);

    private static NpgsqlParameter Text(string value) => new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = value };

    private static NpgsqlParameter Long(long value) => new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = value };
}
