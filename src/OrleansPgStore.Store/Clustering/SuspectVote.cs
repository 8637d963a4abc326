namespace OrleansPgStore.Store.Clustering;

/// <summary>One silo's vote that a member is dead, and when it was cast.</summary>
/// <param name="Silo">The voter's address in its parsable form.</param>
/// <param name="At">When the vote was cast (UTC; kept to the tick).</param>
internal sealed record SuspectVote(string Silo, DateTime At);
