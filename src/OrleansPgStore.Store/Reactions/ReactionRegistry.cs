using OrleansPgStore.Store.Journal;

namespace OrleansPgStore.Store.Reactions;

/// <summary>
/// The reactions a worker runs: handlers by event name, each with a target resolver (by default the event's own
/// stream, so every stream is processed in order), plus batch handlers for projections.
/// </summary>
public sealed class ReactionRegistry
{
    private readonly List<Reaction> _reactions = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    /// <summary>Every event name some reaction handles.</summary>
    public IReadOnlyCollection<string> Names => _names;

    internal IReadOnlyList<Reaction> Reactions => _reactions;

    /// <summary>Handles each event named <paramref name="eventName"/>, one at a time, in order within its target.</summary>
    /// <param name="eventName">The event name.</param>
    /// <param name="handler">The handler. It may run more than once for an event (at least once): make its effects idempotent.</param>
    /// <param name="target">Maps an event to its target; <c>null</c> result: not handled. Defaults to <see cref="ReactionTarget.OwnStream"/>.</param>
    /// <param name="priority">Priority of the targets this reaction registers. Defaults to 0.</param>
    /// <param name="lane">Lane of the targets this reaction registers. Defaults to the default lane.</param>
    public ReactionRegistry On(
        string eventName,
        Func<RecordedEvent, CancellationToken, Task> handler,
        Func<RecordedEvent, ReactionTarget?>? target = null,
        int priority = 0,
        string lane = "")
    {
        ArgumentNullException.ThrowIfNull(handler);
        return Add([eventName], target, handler, null, priority, lane);
    }

    /// <summary>Handles the events named in <paramref name="eventNames"/> a page at a time per target (projections).</summary>
    public ReactionRegistry OnBatch(
        IReadOnlyCollection<string> eventNames,
        Func<ReactionBatch, CancellationToken, Task> handler,
        Func<RecordedEvent, ReactionTarget?>? target = null,
        int priority = 0,
        string lane = "")
    {
        ArgumentNullException.ThrowIfNull(eventNames);
        ArgumentNullException.ThrowIfNull(handler);
        return Add(eventNames, target, null, handler, priority, lane);
    }

    /// <summary>
    /// A projection, exactly once in effect: <paramref name="apply"/> gets the new events of every claimed target in the
    /// worker's open transaction, and its writes commit in that transaction together with the targets' watermarks. A
    /// holder that lost a lease commits nothing, and a crash or a lost connection before the commit leaves neither the
    /// writes nor the progress, so each event's effect lands once.
    /// </summary>
    /// <param name="eventNames">The event names the projection handles.</param>
    /// <param name="apply">
    /// Writes the batch's effects through <see cref="ProjectionTransaction.CreateCommand"/> (the worker's connection and
    /// transaction). It may run again for the same events after a failure or lost lease (its earlier writes were rolled
    /// back), and must have no effects outside that transaction that need to happen once.
    /// </param>
    /// <param name="reset">Clears the read model when the projection is rebuilt, in the transaction of the reset.</param>
    /// <param name="target">Maps an event to its target; <c>null</c> result: not handled. Defaults to <see cref="ReactionTarget.OwnStream"/>.</param>
    /// <param name="priority">Priority of the targets this projection registers. Defaults to 0.</param>
    /// <param name="lane">Lane of the targets this projection registers. Defaults to the default lane.</param>
    public ReactionRegistry Project(
        IReadOnlyCollection<string> eventNames,
        Func<ProjectionBatch, CancellationToken, Task> apply,
        Func<ProjectionTransaction, CancellationToken, Task>? reset = null,
        Func<RecordedEvent, ReactionTarget?>? target = null,
        int priority = 0,
        string lane = "")
    {
        ArgumentNullException.ThrowIfNull(eventNames);
        ArgumentNullException.ThrowIfNull(apply);
        Add(eventNames, target, null, null, priority, lane);
        _reactions[^1] = _reactions[^1] with { Projection = apply, Reset = reset };
        return this;
    }

    /// <summary>
    /// A projection written one event at a time: <paramref name="apply"/> runs for each new event, in order within its
    /// target, in the worker's open transaction, and everything commits once per cycle with the targets' watermarks,
    /// exactly once in effect like <see cref="Project"/>. The shape of a plain per-event handler without its costs:
    /// no commit per event, no idempotency to build, and no round trip per event when it queues its writes with
    /// <see cref="ProjectionTransaction.Queue"/> (the worker sends a cycle's queue in one batch, flushing every
    /// 1,000 statements).
    /// </summary>
    /// <param name="eventNames">The event names the projection handles.</param>
    /// <param name="apply">
    /// Queues one event's writes with <see cref="ProjectionTransaction.Queue"/> (or runs statements at once through
    /// <see cref="ProjectionTransaction.CreateCommand"/>, a round trip each, after <see cref="ProjectionTransaction.FlushAsync"/>
    /// when statements are queued).
    /// </param>
    /// <param name="reset">Clears the read model when the projection is rebuilt, in the transaction of the reset.</param>
    /// <param name="target">Maps an event to its target; <c>null</c> result: not handled. Defaults to <see cref="ReactionTarget.OwnStream"/>.</param>
    /// <param name="priority">Priority of the targets this projection registers. Defaults to 0.</param>
    /// <param name="lane">Lane of the targets this projection registers. Defaults to the default lane.</param>
    public ReactionRegistry ProjectEach(
        IReadOnlyCollection<string> eventNames,
        Func<RecordedEvent, ProjectionTransaction, CancellationToken, Task> apply,
        Func<ProjectionTransaction, CancellationToken, Task>? reset = null,
        Func<RecordedEvent, ReactionTarget?>? target = null,
        int priority = 0,
        string lane = "")
    {
        ArgumentNullException.ThrowIfNull(apply);
        return Project(eventNames, async (batch, ct) =>
        {
            foreach (var e in batch.Events)
            {
                await apply(e, batch, ct).ConfigureAwait(false);
                if (batch.Queued >= MaxQueued)
                {
                    // Bounds the memory a long cycle's queue holds; still in the worker's transaction.
                    await batch.FlushAsync(ct).ConfigureAwait(false);
                }
            }
        }, reset, target, priority, lane);
    }

    /// <summary>Queued statements after which a per-event projection sends its queue before the cycle ends.</summary>
    internal const int MaxQueued = 1000;

    /// <summary>True when every reaction handles events in their own streams: correlation then needs no payloads.</summary>
    internal bool ResolvesOwnStreamsOnly => _reactions.All(r => r.ResolvesOwnStream);

    /// <summary>True when a projection is registered: the loop then acks in the projections' transaction.</summary>
    internal bool HasProjections => _reactions.Any(r => r.Projection is not null);

    private ReactionRegistry Add(
        IReadOnlyCollection<string> eventNames,
        Func<RecordedEvent, ReactionTarget?>? target,
        Func<RecordedEvent, CancellationToken, Task>? handler,
        Func<ReactionBatch, CancellationToken, Task>? batchHandler,
        int priority,
        string lane)
    {
        ArgumentNullException.ThrowIfNull(lane);
        if (eventNames.Count == 0 || eventNames.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("A reaction needs one or more non-empty event names.", nameof(eventNames));
        }

        var names = eventNames.ToHashSet(StringComparer.Ordinal);
        _names.UnionWith(names);
        _reactions.Add(new Reaction(names, target ?? ReactionTarget.OwnStream, handler, batchHandler, priority, lane)
        {
            ResolvesOwnStream = target is null,
        });
        return this;
    }
}
