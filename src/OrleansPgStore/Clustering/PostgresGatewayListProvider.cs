using System.Net;
using Orleans.Messaging;
using OrleansPgStore.Store.Clustering;

namespace OrleansPgStore.Clustering;

/// <summary>
/// The gateways of a cluster, for clients: its active silos with a gateway port, from the membership table silos keep
/// with <see cref="PostgresMembershipTable"/>.
/// </summary>
internal sealed class PostgresGatewayListProvider : IGatewayListProvider, IAsyncDisposable
{
    private readonly MembershipStore _store;
    private readonly string _clusterId;

    /// <param name="store">The membership tables.</param>
    /// <param name="clusterId">The cluster to connect to.</param>
    /// <param name="maxStaleness">How often the client refreshes the list (Orleans' <c>GatewayOptions.GatewayListRefreshPeriod</c>).</param>
    public PostgresGatewayListProvider(MembershipStore store, string clusterId, TimeSpan maxStaleness)
    {
        _store = store;
        _clusterId = clusterId;
        MaxStaleness = maxStaleness;
    }

    public TimeSpan MaxStaleness { get; }

    [Obsolete("Orleans considers every provider updatable.")]
    public bool IsUpdatable => true;

    // A client never creates tables: the silos do, before they join.
    public Task InitializeGatewayListProviderAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public async Task<IList<Uri>> GetGatewaysAsync(CancellationToken cancellationToken = default)
    {
        var gateways = await _store.GatewaysAsync(_clusterId, (int)SiloStatus.Active, cancellationToken).ConfigureAwait(false);
        return gateways.Select(g => SiloAddress.New(IPAddress.Parse(g.Address), g.ProxyPort, g.Generation).ToGatewayUri()).ToList();
    }

    public Task InitializeGatewayListProvider() => InitializeGatewayListProviderAsync();

    public Task<IList<Uri>> GetGateways() => GetGatewaysAsync();

    public ValueTask DisposeAsync() => _store.DisposeAsync();
}
