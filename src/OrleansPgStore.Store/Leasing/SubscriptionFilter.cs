namespace OrleansPgStore.Store.Leasing;

/// <summary>
/// Selects subscriptions for bulk operations. Every test is an exact, case-sensitive equality (a literal name
/// never matches as a pattern: "s1" does not select "s12"); properties left <c>null</c> select everything, and
/// set ones combine with AND.
/// </summary>
public sealed class SubscriptionFilter
{
    /// <summary>Only these target streams. An empty list selects nothing.</summary>
    public IReadOnlyCollection<string>? Streams { get; init; }

    /// <summary>Only targets fed by this source stream.</summary>
    public string? Source { get; init; }

    /// <summary>Only blocked (true) or only unblocked (false) targets.</summary>
    public bool? Blocked { get; init; }

    /// <summary>Only targets in this lane.</summary>
    public string? Lane { get; init; }

    /// <summary>Exactly these streams.</summary>
    public static SubscriptionFilter ForStreams(params string[] streams) => new() { Streams = streams };
}
