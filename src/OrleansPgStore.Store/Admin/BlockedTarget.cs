namespace OrleansPgStore.Store.Admin;

/// <summary>A blocked reaction target and why it was blocked.</summary>
/// <param name="Stream">The target stream.</param>
/// <param name="Lane">Its lane.</param>
/// <param name="Retry">How many attempts it had.</param>
/// <param name="Error">The error text the handler failed with.</param>
internal sealed record BlockedTarget(string Stream, string Lane, long Retry, string? Error);
