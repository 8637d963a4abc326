using Microsoft.Extensions.Logging;
using Orleans;
using OrleansPgStore.Store.Clustering;

namespace OrleansPgStore.Clustering;

/// <summary>
/// Orleans' membership table on PostgreSQL: the silos of a cluster id, with the table version and ETags the
/// membership protocol relies on.
/// </summary>
/// <remarks>
/// <see cref="InsertRowAsync"/> and <see cref="UpdateRowAsync"/> succeed only when the version row still has the ETag of
/// the <see cref="TableVersion"/> they are given (and, for an update, the row its ETag); each bumps the version to
/// the given one and gives the row a fresh ETag, in one transaction. A write that loses returns <c>false</c> and
/// changes nothing. <see cref="UpdateIAmAliveAsync"/> changes neither ETags nor the version.
/// </remarks>
internal sealed partial class PostgresMembershipTable : IMembershipTable, IAsyncDisposable
{
    private readonly MembershipStore _store;
    private readonly string _clusterId;
    private readonly bool _seed;
    private readonly ILogger _logger;

    /// <param name="store">The tables.</param>
    /// <param name="clusterId">The cluster this silo belongs to.</param>
    /// <param name="seed">Whether initialization creates the tables.</param>
    /// <param name="logger">Where to log.</param>
    public PostgresMembershipTable(MembershipStore store, string clusterId, bool seed, ILogger<PostgresMembershipTable> logger)
    {
        _store = store;
        _clusterId = clusterId;
        _seed = seed;
        _logger = logger;
    }

    public async Task InitializeMembershipTableAsync(bool tryInitTableVersion, CancellationToken cancellationToken = default)
    {
        if (_seed)
        {
            await _store.SeedAsync(cancellationToken).ConfigureAwait(false);
        }

        if (tryInitTableVersion && await _store.InitializeClusterAsync(_clusterId, cancellationToken).ConfigureAwait(false))
        {
            LogVersionRowCreated(_logger, _clusterId, _store.QualifiedTable);
        }
    }

    public Task DeleteMembershipTableEntriesAsync(string clusterId, CancellationToken cancellationToken = default)
        => _store.DeleteClusterAsync(clusterId, cancellationToken);

    public async Task CleanupDefunctSiloEntriesAsync(DateTimeOffset beforeDate, CancellationToken cancellationToken = default)
    {
        var deleted = await _store.DeleteDefunctAsync(_clusterId, beforeDate.UtcDateTime, (int)SiloStatus.Active, cancellationToken).ConfigureAwait(false);
        LogDefunctDeleted(_logger, deleted, _clusterId, beforeDate);
    }

    public async Task<MembershipTableData> ReadRowAsync(SiloAddress key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        var snapshot = await _store.ReadRowAsync(
            _clusterId, key.Endpoint.Address.ToString(), key.Endpoint.Port, key.Generation, cancellationToken).ConfigureAwait(false);
        return MembershipEntryMapping.ToTableData(snapshot);
    }

    public async Task<MembershipTableData> ReadAllAsync(CancellationToken cancellationToken = default)
        => MembershipEntryMapping.ToTableData(await _store.ReadAllAsync(_clusterId, cancellationToken).ConfigureAwait(false));

    public async Task<bool> InsertRowAsync(MembershipEntry entry, TableVersion tableVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(tableVersion);
        var row = MembershipEntryMapping.ToRow(entry);
        if (!MembershipEntryMapping.TryParseEtag(tableVersion.VersionEtag, out var versionEtag))
        {
            return false;
        }

        var inserted = await _store.InsertAsync(_clusterId, row, tableVersion.Version, versionEtag, cancellationToken).ConfigureAwait(false);
        LogWrite(_logger, "insert", entry.SiloAddress, tableVersion, inserted);
        return inserted;
    }

    public async Task<bool> UpdateRowAsync(MembershipEntry entry, string etag, TableVersion tableVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(etag);
        ArgumentNullException.ThrowIfNull(tableVersion);
        var row = MembershipEntryMapping.ToRow(entry);
        if (!MembershipEntryMapping.TryParseEtag(tableVersion.VersionEtag, out var versionEtag)
            || !MembershipEntryMapping.TryParseEtag(etag, out var rowEtag))
        {
            return false;
        }

        var updated = await _store.UpdateAsync(_clusterId, row, rowEtag, tableVersion.Version, versionEtag, cancellationToken).ConfigureAwait(false);
        LogWrite(_logger, "update", entry.SiloAddress, tableVersion, updated);
        return updated;
    }

    public Task UpdateIAmAliveAsync(MembershipEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(entry.SiloAddress);
        var silo = entry.SiloAddress;
        return _store.UpdateIAmAliveAsync(
            _clusterId, silo.Endpoint.Address.ToString(), silo.Endpoint.Port, silo.Generation, entry.IAmAliveTime, cancellationToken);
    }

    // The pre-10.3 members Orleans still declares; everything forwards to the cancellable forms above.
    public Task InitializeMembershipTable(bool tryInitTableVersion) => InitializeMembershipTableAsync(tryInitTableVersion);

    public Task DeleteMembershipTableEntries(string clusterId) => DeleteMembershipTableEntriesAsync(clusterId);

    public Task CleanupDefunctSiloEntries(DateTimeOffset beforeDate) => CleanupDefunctSiloEntriesAsync(beforeDate);

    public Task<MembershipTableData> ReadRow(SiloAddress key) => ReadRowAsync(key);

    public Task<MembershipTableData> ReadAll() => ReadAllAsync();

    public Task<bool> InsertRow(MembershipEntry entry, TableVersion tableVersion) => InsertRowAsync(entry, tableVersion);

    public Task<bool> UpdateRow(MembershipEntry entry, string etag, TableVersion tableVersion) => UpdateRowAsync(entry, etag, tableVersion);

    public Task UpdateIAmAlive(MembershipEntry entry) => UpdateIAmAliveAsync(entry);

    public ValueTask DisposeAsync() => _store.DisposeAsync();

    [LoggerMessage(Level = LogLevel.Information, Message = "Cluster {ClusterId}: created its membership version row in {Table}")]
    private static partial void LogVersionRowCreated(ILogger logger, string clusterId, string table);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Cluster {ClusterId}: deleted {Count} defunct silo rows older than {Before}")]
    private static partial void LogDefunctDeleted(ILogger logger, int count, string clusterId, DateTimeOffset before);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Membership {Operation} of {Silo} at table version {TableVersion}: {Succeeded}")]
    private static partial void LogWrite(ILogger logger, string operation, SiloAddress silo, TableVersion tableVersion, bool succeeded);
}
