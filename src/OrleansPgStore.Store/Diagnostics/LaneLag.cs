namespace OrleansPgStore.Store.Diagnostics;

/// <summary>How far the reaction targets of one lane are behind the journal.</summary>
/// <param name="Lane">The lane (the default lane is the empty string).</param>
/// <param name="Targets">Subscribed targets in the lane.</param>
/// <param name="Lagging">Targets with events not yet handled (blocked ones included).</param>
/// <param name="Blocked">Blocked targets: they make no progress until an operator unblocks them.</param>
/// <param name="EventsBehind">
/// Events committed after the targets' watermarks, up to their work marks, summed over the lane; an upper bound, as
/// events a reaction does not subscribe to are counted too.
/// </param>
/// <param name="TimeBehind">Age of the oldest event not yet handled in the lane (database clock); zero when caught up.</param>
internal sealed record LaneLag(string Lane, long Targets, long Lagging, long Blocked, long EventsBehind, TimeSpan TimeBehind);
