namespace OrleansPgStore.EventSourcing;

/// <summary>A snapshot row that cannot be read as the grain's state; the adaptor rebuilds that state from events instead.</summary>
/// <param name="reason">Why, completing "The snapshot … cannot be read: ".</param>
/// <param name="grainVersion">The grain version the payload records, when it has a readable one.</param>
/// <param name="legacyStateJson">The state of a snapshot in the JSON format of earlier versions.</param>
/// <param name="inner">The error that made it unreadable, if any.</param>
internal sealed class UnreadableSnapshotException(string reason, int? grainVersion, string? legacyStateJson, Exception? inner = null)
    : Exception(reason, inner)
{
    /// <summary>The grain version the payload records, when it has a readable one.</summary>
    public int? GrainVersion { get; } = grainVersion;

    /// <summary>The JSON state of a snapshot written before snapshots used Orleans' serializer; otherwise <c>null</c>.</summary>
    public string? LegacyStateJson { get; } = legacyStateJson;
}
