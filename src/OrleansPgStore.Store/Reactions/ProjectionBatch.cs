using Npgsql;
using OrleansPgStore.Store.Journal;

namespace OrleansPgStore.Store.Reactions;

/// <summary>
/// What a projection gets per cycle: the new events of every target the worker claimed (each target's in order), and
/// the transaction its writes go into. Write the whole batch in as few statements as possible (e.g. one INSERT over
/// <c>unnest</c> arrays): the cycle commits once.
/// </summary>
public sealed class ProjectionBatch : ProjectionTransaction
{
    internal ProjectionBatch(NpgsqlTransaction transaction, IReadOnlyList<ReactionBatch> targets)
        : base(transaction)
    {
        Targets = targets;
    }

    /// <summary>The targets' events, one entry per target; targets are independent of each other.</summary>
    public IReadOnlyList<ReactionBatch> Targets { get; }

    /// <summary>Every event of the batch, target after target, in order within each target.</summary>
    public IEnumerable<RecordedEvent> Events => Targets.SelectMany(t => t.Events);
}
