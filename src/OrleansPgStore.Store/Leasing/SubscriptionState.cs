namespace OrleansPgStore.Store.Leasing;

/// <summary>A subscription as stored, for inspection.</summary>
internal sealed record SubscriptionState(
    string Stream,
    string? Source,
    long At,
    long Work,
    long Retry,
    bool Blocked,
    string? Error,
    string? Holder,
    DateTimeOffset? LeasedUntil,
    int Priority,
    string Lane,
    DateTimeOffset? Due);
