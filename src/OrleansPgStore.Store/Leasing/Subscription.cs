namespace OrleansPgStore.Store.Leasing;

/// <summary>A target stream to register for processing.</summary>
/// <param name="Stream">The target stream: the unit of ordering and leasing.</param>
/// <param name="Source">
/// The stream whose events feed the target; <c>null</c>: events of every stream (e.g. a projection).
/// </param>
/// <param name="Priority">Higher is claimed first (a fairness reserve keeps lower priorities moving). Defaults to 0.</param>
/// <param name="Lane">Workers claim from one lane; the default lane is the empty string.</param>
internal sealed record Subscription(string Stream, string? Source = null, int Priority = 0, string Lane = "");
