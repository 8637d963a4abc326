namespace OrleansPgStore.Hosting;

/// <summary>
/// The names one <c>AddPostgresJournal</c> registration serves its two roles under, when they should differ from the
/// registration's name. Both roles still share the registration's one data source (one connection pool).
/// </summary>
internal sealed record PostgresProviderNames
{
    /// <summary>The log-consistency provider's name, as in <c>[LogConsistencyProvider(ProviderName = …)]</c>;
    /// <c>null</c> means the registration's name.</summary>
    public string? LogConsistency { get; init; }

    /// <summary>The grain storage's name, as in <c>[PersistentState("state", …)]</c>; <c>null</c> means the
    /// registration's name.</summary>
    public string? GrainStorage { get; init; }

    /// <summary>Whether the log-consistency provider also serves JournaledGrains that name no provider (unless another
    /// default is registered). <c>true</c> by default.</summary>
    public bool LogConsistencyAsDefault { get; init; } = true;
}
