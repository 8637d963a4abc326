namespace OrleansPgStore.Store.Clustering;

/// <summary>A gateway clients may connect to.</summary>
/// <param name="Address">The silo's IP address, as text.</param>
/// <param name="ProxyPort">The gateway port.</param>
/// <param name="Generation">The silo's incarnation.</param>
internal sealed record GatewayEndpoint(string Address, int ProxyPort, int Generation);
