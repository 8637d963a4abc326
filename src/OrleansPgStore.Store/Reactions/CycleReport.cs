namespace OrleansPgStore.Store.Reactions;

/// <summary>What a cycle's last step recorded: events handled (or projected and committed), acks, deferrals, blocks, drops.</summary>
internal sealed record CycleReport(int Handled, int Acked, int Deferred, int Blocked, IReadOnlyList<string> Dropped);
