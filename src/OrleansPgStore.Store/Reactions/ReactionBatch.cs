using OrleansPgStore.Store.Journal;

namespace OrleansPgStore.Store.Reactions;

/// <summary>Events handed to a batch handler together: all the events of one page for one target, in order.</summary>
/// <param name="Target">The target stream.</param>
/// <param name="Events">The events, in position order.</param>
/// <param name="Attempt">0 on the first attempt, then 1, 2, ... after failures or expired leases.</param>
public sealed record ReactionBatch(string Target, IReadOnlyList<RecordedEvent> Events, long Attempt);
