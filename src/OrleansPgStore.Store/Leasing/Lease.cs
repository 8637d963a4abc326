namespace OrleansPgStore.Store.Leasing;

/// <summary>A target stream leased to one holder until <see cref="LeasedUntil"/>.</summary>
/// <param name="Stream">The target stream.</param>
/// <param name="Source">The stream feeding it, or <c>null</c> for every stream.</param>
/// <param name="At">The watermark: the global position of the last event handled for this target (-1: none).</param>
/// <param name="Work">The work mark: the highest position known to need handling (<see cref="Work"/> &gt; <see cref="At"/>).</param>
/// <param name="Holder">Who holds the lease.</param>
/// <param name="Retry">How many claims since the last success: 0 on a first attempt.</param>
/// <param name="Lagging">True when claimed from the lagging frontier (lowest watermark), false from the leading one.</param>
/// <param name="LeasedUntil">When the lease expires (the database's clock).</param>
internal sealed record Lease(
    string Stream,
    string? Source,
    long At,
    long Work,
    string Holder,
    long Retry,
    bool Lagging,
    DateTimeOffset LeasedUntil);
