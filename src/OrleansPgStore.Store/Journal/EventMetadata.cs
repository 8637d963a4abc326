namespace OrleansPgStore.Store.Journal;

/// <summary>Metadata committed with every event of a batch.</summary>
/// <param name="CorrelationId">Ties together everything one request caused; indexed, so it can be queried.</param>
/// <param name="Causation">The event or command that caused this batch.</param>
public sealed record EventMetadata(string? CorrelationId = null, EventCausation? Causation = null)
{
    /// <summary>No metadata.</summary>
    public static readonly EventMetadata None = new();
}
