using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.Reactions;

namespace OrleansPgStore.Reactions;

/// <summary>
/// Operations on the reactions and projections of one <c>AddPostgresJournal</c> registration. Resolve it as a keyed
/// service by the provider's name.
/// </summary>
public sealed class PostgresReactions
{
    private readonly PostgresReactionRuntime _runtime;

    internal PostgresReactions(PostgresReactionRuntime runtime) => _runtime = runtime;

    /// <summary>
    /// Rebuilds the projections: in one transaction, resets the selected targets to replay from the start and runs the
    /// reset hook of every projection in the selected lane (of every projection when <paramref name="targets"/> names no
    /// lane); then replays on this silo, claiming from that lane (the lane's workers help), until every unblocked target
    /// has caught up, reporting events done and total.
    /// </summary>
    /// <remarks>
    /// Every reaction of the registration replays its reset targets, at-least-once handlers included; give a projection
    /// a lane of its own and select it with <paramref name="targets"/> (<c>new SubscriptionFilter { Lane = "…" }</c>) to
    /// rebuild it alone.
    /// </remarks>
    /// <param name="targets">The targets to reset. Defaults to every target in the default lane.</param>
    /// <param name="progress">Receives the progress after the reset and after each cycle of the replay.</param>
    /// <param name="cancellationToken">Stops waiting for the replay (the workers finish it).</param>
    public Task<RebuildProgress> RebuildAsync(
        SubscriptionFilter? targets = null, IProgress<RebuildProgress>? progress = null, CancellationToken cancellationToken = default)
        => _runtime.CreateLoop($"{_runtime.Name}/rebuild/{Guid.NewGuid():N}", targets?.Lane ?? "")
            .RebuildAsync(targets ?? new SubscriptionFilter { Lane = "" }, progress, cancellationToken);
}
