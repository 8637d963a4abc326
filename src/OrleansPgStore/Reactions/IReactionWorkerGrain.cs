namespace OrleansPgStore.Reactions;

/// <summary>
/// A reaction worker: while active it runs the lease-claim loop of one lane of one <c>AddPostgresJournal</c>
/// registration. Keyed <c>{provider name}/{index}</c> in the default lane, <c>{provider name}/{index}/lane:{lane}</c>
/// (the lane URI-escaped) in another. Each silo starts only the workers that belong on it (its share of every lane
/// with a reaction), not all of them.
/// </summary>
[Alias("OrleansPgStore.Reactions.IReactionWorkerGrain")]
internal interface IReactionWorkerGrain : IGrainWithStringKey
{
    /// <summary>
    /// Activates the worker (which starts its loop) and registers the reminder that revives it. Idempotent. Called by
    /// the silo the worker belongs on (<paramref name="silo"/>); an activation elsewhere migrates there.
    /// </summary>
    [Alias("EnsureStartedOn")]
    Task EnsureStartedAsync(string silo);

    /// <summary>How many cycles of this activation found work (diagnostics and tests).</summary>
    [Alias("GetBusyCycles")]
    Task<long> GetBusyCyclesAsync();
}
