namespace OrleansPgStore.Store.Journal;

/// <summary>
/// A filter over the journal. Every property left <c>null</c> matches everything; set properties combine with AND.
/// Bounds that contradict each other simply match nothing.
/// </summary>
public sealed class JournalQuery
{
    /// <summary>Only this stream (an exact, case-sensitive equality test; never a pattern).</summary>
    public string? Stream { get; init; }

    /// <summary>Only streams matching this POSIX regular expression (case-sensitive; anchor it with <c>^…$</c> to match whole names).</summary>
    public string? StreamPattern { get; init; }

    /// <summary>Only events with one of these names. An empty list matches nothing.</summary>
    public IReadOnlyCollection<string>? Names { get; init; }

    /// <summary>Only positions strictly greater than this (0 is a real bound).</summary>
    public long? After { get; init; }

    /// <summary>Only positions strictly less than this (0 is a real bound).</summary>
    public long? Before { get; init; }

    /// <summary>Only events committed strictly after this instant.</summary>
    public DateTimeOffset? CreatedAfter { get; init; }

    /// <summary>Only events committed strictly before this instant.</summary>
    public DateTimeOffset? CreatedBefore { get; init; }

    /// <summary>Only events with this correlation id.</summary>
    public string? CorrelationId { get; init; }

    /// <summary>At most this many events (0 returns nothing).</summary>
    public long? Limit { get; init; }

    /// <summary>Newest first. Defaults to oldest first.</summary>
    public bool Backward { get; init; }

    /// <summary>Also return snapshots and tombstones. Defaults to events only.</summary>
    public bool IncludeSnapshots { get; init; }

    /// <summary>Everything, oldest first.</summary>
    public static JournalQuery All { get; } = new();
}
