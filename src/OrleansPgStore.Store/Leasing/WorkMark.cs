namespace OrleansPgStore.Store.Leasing;

/// <summary>A target that has work up to a global position (registers the target if it is new).</summary>
internal sealed record WorkMark(Subscription Target, long Position);
