using OrleansPgStore.Store.Journal;

namespace OrleansPgStore.Store.Reactions;

/// <summary>
/// A registered reaction: which events, where they are handled, and the handler: one of a per-event handler, a batch
/// handler (both at least once), or a projection (exactly once, in the worker's transaction) with its reset hook.
/// </summary>
internal sealed record Reaction(
    IReadOnlySet<string> Names,
    Func<RecordedEvent, ReactionTarget?> Resolve,
    Func<RecordedEvent, CancellationToken, Task>? Handler,
    Func<ReactionBatch, CancellationToken, Task>? BatchHandler,
    int Priority,
    string Lane)
{
    /// <summary>True when <see cref="Resolve"/> is <see cref="ReactionTarget.OwnStream"/>, which looks at the event's stream only.</summary>
    public bool ResolvesOwnStream { get; init; }

    /// <summary>A projection's handler, run in the transaction that acks its targets.</summary>
    public Func<ProjectionBatch, CancellationToken, Task>? Projection { get; init; }

    /// <summary>A projection's hook that clears its read model, run in the transaction of a rebuild's reset.</summary>
    public Func<ProjectionTransaction, CancellationToken, Task>? Reset { get; init; }

    /// <summary>True when this reaction handles <paramref name="e"/> in <paramref name="target"/>.</summary>
    public bool Handles(RecordedEvent e, string target)
        => Names.Contains(e.Name) && Resolve(e)?.Stream == target;
}
