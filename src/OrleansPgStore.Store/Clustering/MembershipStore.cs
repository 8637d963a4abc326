using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;
using OrleansPgStore.Store.Connection;
using OrleansPgStore.Store.Diagnostics;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Schema;

namespace OrleansPgStore.Store.Clustering;

/// <summary>
/// The membership table of one or more clusters: a version row per cluster id and a row per silo incarnation, with
/// the optimistic concurrency a cluster membership protocol needs (every write names the version ETag it read; an
/// update also names the row's ETag).
/// </summary>
/// <remarks>
/// Thread-safe; create one per pair of tables and share it. A write that finds an ETag moved returns <c>false</c> and
/// changes nothing; a write that fails on the database throws and changes nothing either (each write is one statement).
/// </remarks>
internal sealed class MembershipStore : IAsyncDisposable
{
    private readonly StoreConnection _store;
    private readonly MembershipSql _sql;
    private readonly string _ddl;

    public MembershipStore(MembershipStoreOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        StoreOptionsValidator<MembershipStoreOptions>.ThrowIfInvalid(options);
        SqlIdentifier.Validate(options.VersionTable, "VersionTable");
        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("OrleansPgStore.Clustering");
        _store = new StoreConnection(options, logger, loggerFactory);
        var versions = _store.QuotedSchema + "." + SqlIdentifier.Quote(options.VersionTable, "VersionTable");
        _sql = new MembershipSql(_store.QualifiedTable, versions, MembershipSchema.Sequence(_store.QuotedSchema, options.Table));
        _ddl = MembershipSchema.Create(_store.QuotedSchema, options.Table, options.VersionTable);
    }

    /// <summary>The schema-qualified, quoted membership table.</summary>
    public string QualifiedTable => _store.QualifiedTable;

    /// <summary>Creates the schema (if missing), the tables and their sequence. Idempotent; safe from many silos at once.</summary>
    public Task SeedAsync(CancellationToken cancellationToken = default)
        => SchemaInstaller.SeedAsync(_store, _ddl, cancellationToken);

    /// <summary>The SQL <see cref="SeedAsync"/> applies, for DBAs who create schemas by hand.</summary>
    public static string SchemaSql(string schema = "public", string table = "orleans_membership", string versionTable = "orleans_membership_version")
    {
        var quotedSchema = SqlIdentifier.Quote(schema, nameof(schema));
        return $"CREATE SCHEMA IF NOT EXISTS {quotedSchema};\n{MembershipSchema.Create(quotedSchema, table, versionTable)}\n";
    }

    /// <summary>Creates the version row of <paramref name="clusterId"/> (version 0) unless it exists.</summary>
    /// <returns>True when this call created it.</returns>
    public Task<bool> InitializeClusterAsync(string clusterId, CancellationToken cancellationToken = default)
    {
        ValidateCluster(clusterId);
        return RunAsync("membership.init", $"Creating the version row of cluster '{clusterId}'", async () =>
        {
            await using var prepared = await _store.PrepareAsync(_sql.InitVersion, cancellationToken, Text(clusterId)).ConfigureAwait(false);
            return await prepared.Command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long;
        });
    }

    /// <summary>Every row of <paramref name="clusterId"/> and its version, read together.</summary>
    public Task<MembershipSnapshot> ReadAllAsync(string clusterId, CancellationToken cancellationToken = default)
    {
        ValidateCluster(clusterId);
        return RunAsync("membership.read_all", $"Reading the membership of cluster '{clusterId}'", async () =>
        {
            await using var prepared = await _store.PrepareAsync(_sql.ReadAll, cancellationToken, Text(clusterId)).ConfigureAwait(false);
            return await ReadSnapshotAsync(prepared.Command, cancellationToken).ConfigureAwait(false);
        });
    }

    /// <summary>The row of one silo incarnation (none when it is not in the table) and the version, read together.</summary>
    public Task<MembershipSnapshot> ReadRowAsync(
        string clusterId, string address, int port, int generation, CancellationToken cancellationToken = default)
    {
        ValidateCluster(clusterId);
        ValidateText(address, "Address", nameof(address));
        return RunAsync("membership.read_row", $"Reading silo {address}:{port}@{generation} of cluster '{clusterId}'", async () =>
        {
            await using var prepared = await _store.PrepareAsync(
                _sql.ReadRow, cancellationToken, Text(clusterId), Text(address), Int(port), Int(generation)).ConfigureAwait(false);
            return await ReadSnapshotAsync(prepared.Command, cancellationToken).ConfigureAwait(false);
        });
    }

    /// <summary>
    /// Adds <paramref name="row"/> and sets the cluster's version to <paramref name="newVersion"/>, if the version row
    /// still has the ETag <paramref name="expectedVersionEtag"/> and the silo incarnation is not in the table yet.
    /// </summary>
    /// <returns>True when the row was added; false (nothing changed) when an ETag moved or the row exists.</returns>
    public Task<bool> InsertAsync(
        string clusterId, MembershipRow row, long newVersion, long expectedVersionEtag, CancellationToken cancellationToken = default)
    {
        ValidateCluster(clusterId);
        ValidateRow(row);
        return RunAsync("membership.insert", $"Inserting silo {Describe(row)} into cluster '{clusterId}'", async () =>
        {
            try
            {
                return await WriteAsync(
                    _sql.Insert, [.. RowParameters(clusterId, row), Long(newVersion), Long(expectedVersionEtag)], cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                // Another writer added the same incarnation first: the same answer as "the row exists".
                return false;
            }
        });
    }

    /// <summary>
    /// Replaces the stored row of <paramref name="row"/>'s silo incarnation and sets the cluster's version to
    /// <paramref name="newVersion"/>, if the row still has the ETag <paramref name="expectedEtag"/> and the version row
    /// the ETag <paramref name="expectedVersionEtag"/>.
    /// </summary>
    /// <returns>True when the row was replaced; false (nothing changed) when either ETag moved or the row is gone.</returns>
    public Task<bool> UpdateAsync(
        string clusterId, MembershipRow row, long expectedEtag, long newVersion, long expectedVersionEtag, CancellationToken cancellationToken = default)
    {
        ValidateCluster(clusterId);
        ValidateRow(row);
        return RunAsync("membership.update", $"Updating silo {Describe(row)} in cluster '{clusterId}'", () => WriteAsync(
            _sql.Update, [.. RowParameters(clusterId, row), Long(newVersion), Long(expectedVersionEtag), Long(expectedEtag)], cancellationToken));
    }

    /// <summary>Sets the time a silo last said it is alive; no ETag and no version changes (a dirty write).</summary>
    public Task UpdateIAmAliveAsync(
        string clusterId, string address, int port, int generation, DateTime iAmAliveTime, CancellationToken cancellationToken = default)
    {
        ValidateCluster(clusterId);
        ValidateText(address, "Address", nameof(address));
        return RunAsync("membership.i_am_alive", $"Updating the I-am-alive time of silo {address}:{port}@{generation} in cluster '{clusterId}'", async () =>
        {
            await using var prepared = await _store.PrepareAsync(
                _sql.IAmAlive, cancellationToken, Text(clusterId), Text(address), Int(port), Int(generation), Time(iAmAliveTime)).ConfigureAwait(false);
            return await prepared.Command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        });
    }

    /// <summary>
    /// Deletes the rows of <paramref name="clusterId"/> whose silo neither started nor said it was alive since
    /// <paramref name="before"/>, except those with status <paramref name="keptStatus"/> (active silos).
    /// </summary>
    /// <returns>How many rows were deleted.</returns>
    public Task<int> DeleteDefunctAsync(string clusterId, DateTime before, int keptStatus, CancellationToken cancellationToken = default)
    {
        ValidateCluster(clusterId);
        return RunAsync("membership.cleanup", $"Deleting defunct silos of cluster '{clusterId}'", async () =>
        {
            await using var prepared = await _store.PrepareAsync(
                _sql.DeleteDefunct, cancellationToken, Text(clusterId), Int(keptStatus), Time(before)).ConfigureAwait(false);
            return await prepared.Command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        });
    }

    /// <summary>Deletes the version row and every row of <paramref name="clusterId"/>.</summary>
    public Task DeleteClusterAsync(string clusterId, CancellationToken cancellationToken = default)
    {
        ValidateCluster(clusterId);
        return RunAsync("membership.delete", $"Deleting cluster '{clusterId}'", async () =>
        {
            await using var prepared = await _store.PrepareAsync(_sql.DeleteCluster, cancellationToken, Text(clusterId)).ConfigureAwait(false);
            return await prepared.Command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        });
    }

    /// <summary>The silos of <paramref name="clusterId"/> with status <paramref name="status"/> and a gateway port.</summary>
    public Task<IReadOnlyList<GatewayEndpoint>> GatewaysAsync(string clusterId, int status, CancellationToken cancellationToken = default)
    {
        ValidateCluster(clusterId);
        return RunAsync<IReadOnlyList<GatewayEndpoint>>("membership.gateways", $"Reading the gateways of cluster '{clusterId}'", async () =>
        {
            await using var prepared = await _store.PrepareAsync(_sql.Gateways, cancellationToken, Text(clusterId), Int(status)).ConfigureAwait(false);
            await using var reader = await prepared.Command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var gateways = new List<GatewayEndpoint>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                gateways.Add(new GatewayEndpoint(reader.GetString(0), reader.GetInt32(1), reader.GetInt32(2)));
            }

            return gateways;
        });
    }

    /// <summary>Disposes the data source if the store created it from a connection string.</summary>
    public ValueTask DisposeAsync() => _store.DisposeAsync();

    /// <summary>Runs a conditional write (one statement, so all or nothing): true when it wrote its row.</summary>
    private async Task<bool> WriteAsync(string sql, NpgsqlParameter[] parameters, CancellationToken cancellationToken)
    {
        await using var prepared = await _store.PrepareAsync(sql, cancellationToken, parameters).ConfigureAwait(false);
        return await prepared.Command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long;
    }

    private static async Task<MembershipSnapshot> ReadSnapshotAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        long version = 0, versionEtag = 0;
        var members = new List<(MembershipRow, long)>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            version = reader.GetInt64(0);
            versionEtag = reader.GetInt64(1);
            if (reader.IsDBNull(2))
            {
                continue; // the version row without a member
            }

            var row = new MembershipRow(
                Address: reader.GetString(2),
                Port: reader.GetInt32(3),
                Generation: reader.GetInt32(4),
                SiloName: reader.IsDBNull(5) ? null : reader.GetString(5),
                HostName: reader.IsDBNull(6) ? null : reader.GetString(6),
                Status: reader.GetInt32(7),
                ProxyPort: reader.GetInt32(8),
                RoleName: reader.IsDBNull(9) ? null : reader.GetString(9),
                UpdateZone: reader.GetInt32(10),
                FaultZone: reader.GetInt32(11),
                SuspectTimes: SuspectTimesJson.Read(reader.IsDBNull(12) ? null : reader.GetString(12)),
                StartTime: reader.GetFieldValue<DateTime>(13),
                IAmAliveTime: reader.GetFieldValue<DateTime>(14));
            members.Add((row, reader.GetInt64(15)));
        }

        return new MembershipSnapshot(version, versionEtag, members);
    }

    private async Task<T> RunAsync<T>(string name, string what, Func<Task<T>> body)
    {
        var operation = StoreOperation.Start(name, _store);
        try
        {
            var result = await body().ConfigureAwait(false);
            operation.Succeeded();
            return result;
        }
        catch (Exception e)
        {
            var translated = _store.Translate(what, e);
            operation.Failed(translated);
            throw translated;
        }
    }

    private static NpgsqlParameter[] RowParameters(string clusterId, MembershipRow row) =>
    [
        Text(clusterId), Text(row.Address), Int(row.Port), Int(row.Generation), NullableText(row.SiloName), NullableText(row.HostName),
        Int(row.Status), Int(row.ProxyPort), NullableText(row.RoleName), Int(row.UpdateZone), Int(row.FaultZone),
        NullableText(SuspectTimesJson.Write(row.SuspectTimes)), Time(row.StartTime), Time(row.IAmAliveTime),
    ];

    private static void ValidateCluster(string clusterId) => InputChecks.Key(clusterId, "Cluster id", nameof(clusterId));

    private static void ValidateText(string? value, string what, string parameter)
    {
        ArgumentNullException.ThrowIfNull(value, parameter);
        InputChecks.Text(value, what, parameter);
    }

    private static void ValidateRow(MembershipRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        var what = $"Membership row of silo {Describe(row)}";
        ValidateText(row.Address, $"{what}: Address", nameof(row));
        foreach (var (value, member) in new[] { (row.SiloName, "SiloName"), (row.HostName, "HostName"), (row.RoleName, "RoleName") })
        {
            if (value is not null)
            {
                ValidateText(value, $"{what}: {member}", nameof(row));
            }
        }

        foreach (var vote in row.SuspectTimes ?? [])
        {
            ValidateText(vote?.Silo, $"{what}: a suspecting silo", nameof(row));
        }
    }

    private static string Describe(MembershipRow row) => $"{row.Address}:{row.Port}@{row.Generation}";

    private static NpgsqlParameter Text(string value) => new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Text, TypedValue = value };

    private static NpgsqlParameter NullableText(string? value)
        => new() { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)value ?? DBNull.Value };

    private static NpgsqlParameter Int(int value) => new NpgsqlParameter<int> { NpgsqlDbType = NpgsqlDbType.Integer, TypedValue = value };

    private static NpgsqlParameter Long(long value) => new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = value };

    /// <summary>A time as <c>timestamptz</c>: an unspecified kind is taken as UTC (Orleans' times are UTC), a local one converted.</summary>
    private static NpgsqlParameter Time(DateTime value)
        => new NpgsqlParameter<DateTime> { NpgsqlDbType = NpgsqlDbType.TimestampTz, TypedValue = ToUtc(value) };

    internal static DateTime ToUtc(DateTime value) => value.Kind switch
    {
        DateTimeKind.Utc => value,
        DateTimeKind.Local => value.ToUniversalTime(),
        _ => DateTime.SpecifyKind(value, DateTimeKind.Utc),
    };
}
