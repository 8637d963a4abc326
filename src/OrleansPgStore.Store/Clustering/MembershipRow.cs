namespace OrleansPgStore.Store.Clustering;

/// <summary>
/// One silo incarnation in a cluster, as stored: its key (<paramref name="Address"/>, <paramref name="Port"/>,
/// <paramref name="Generation"/>) and what the membership protocol writes about it.
/// </summary>
/// <param name="Address">The silo's IP address, as text.</param>
/// <param name="Port">The silo-to-silo port.</param>
/// <param name="Generation">The incarnation (a silo that restarts on the same endpoint gets a new one).</param>
/// <param name="SiloName">The silo's name.</param>
/// <param name="HostName">The host the silo runs on.</param>
/// <param name="Status">The silo status, as the membership protocol numbers it.</param>
/// <param name="ProxyPort">The client gateway port; 0 when the silo is no gateway.</param>
/// <param name="RoleName">The role (optional).</param>
/// <param name="UpdateZone">The update zone (optional).</param>
/// <param name="FaultZone">The fault zone (optional).</param>
/// <param name="SuspectTimes">The votes that the silo is dead; <c>null</c> when there is no list at all.</param>
/// <param name="StartTime">When the silo started (UTC).</param>
/// <param name="IAmAliveTime">When the silo last said it is alive (UTC).</param>
internal sealed record MembershipRow(
    string Address,
    int Port,
    int Generation,
    string? SiloName,
    string? HostName,
    int Status,
    int ProxyPort,
    string? RoleName,
    int UpdateZone,
    int FaultZone,
    IReadOnlyList<SuspectVote>? SuspectTimes,
    DateTime StartTime,
    DateTime IAmAliveTime);
