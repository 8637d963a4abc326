namespace OrleansPgStore.Store.Leasing;

/// <summary>What an attempt to advance a discovery checkpoint found.</summary>
/// <param name="Advanced">True when this attempt moved the checkpoint (and raised its work marks).</param>
/// <param name="Position">
/// Where the checkpoint is now: the new position when <paramref name="Advanced"/>; otherwise where another worker (or a
/// crash that lost recent writes) left it, from which the caller reads on.
/// </param>
internal readonly record struct CheckpointAdvance(bool Advanced, long Position);
