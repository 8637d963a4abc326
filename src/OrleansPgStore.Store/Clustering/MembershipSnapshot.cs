namespace OrleansPgStore.Store.Clustering;

/// <summary>
/// The rows of a cluster and its table version, read in one statement (so they are consistent with each other).
/// </summary>
/// <param name="Version">The table version the last successful write set.</param>
/// <param name="VersionEtag">The version row's ETag: a write must name it to succeed. 0 when the cluster has no version
/// row yet (no write can succeed until it is created).</param>
/// <param name="Members">The rows, each with its own ETag.</param>
internal sealed record MembershipSnapshot(long Version, long VersionEtag, IReadOnlyList<(MembershipRow Row, long Etag)> Members);
