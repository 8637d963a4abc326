using OrleansPgStore.Store.Journal;

namespace OrleansPgStore.Store.Reactions;

/// <summary>A registered reaction: which events, where they are handled, and the handler.</summary>
internal sealed record Reaction(
    IReadOnlySet<string> Names,
    Func<RecordedEvent, ReactionTarget?> Resolve,
    Func<RecordedEvent, CancellationToken, Task>? Handler,
    Func<ReactionBatch, CancellationToken, Task>? BatchHandler,
    int Priority,
    string Lane)
{
    /// <summary>True when this reaction handles <paramref name="e"/> in <paramref name="target"/>.</summary>
    public bool Handles(RecordedEvent e, string target)
        => Names.Contains(e.Name) && Resolve(e)?.Stream == target;
}
