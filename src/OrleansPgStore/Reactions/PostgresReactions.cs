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
    /// Rebuilds the projections: in one transaction, resets the selected targets to replay from the start and runs
    /// every projection's reset hook; then replays on this silo (the workers help) until every unblocked target has
    /// caught up, reporting events done and total.
    /// </summary>
    /// <remarks>
    /// Every reaction of the registration replays its reset targets, at-least-once handlers included; select a lane
    /// with <paramref name="targets"/> to rebuild one projection alone.
    /// </remarks>
    /// <param name="targets">The targets to reset. Defaults to every target in the workers' lane.</param>
    /// <param name="progress">Receives the progress after the reset and after each cycle of the replay.</param>
    /// <param name="cancellationToken">Stops waiting for the replay (the workers finish it).</param>
    public Task<RebuildProgress> RebuildAsync(
        SubscriptionFilter? targets = null, IProgress<RebuildProgress>? progress = null, CancellationToken cancellationToken = default)
        => _runtime.CreateLoop($"{_runtime.Name}/rebuild/{Guid.NewGuid():N}").RebuildAsync(targets, progress, cancellationToken);
}
