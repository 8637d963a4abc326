namespace OrleansPgStore.Store.Errors;

/// <summary>
/// A holder tried to report progress inside its own transaction for leases it no longer holds (they expired and may
/// have been claimed by another worker, or were reset). The transaction must roll back: its effects belong to a
/// holder that lost the right to commit them.
/// </summary>
internal sealed class LeaseLostException : OrleansPgStoreException
{
    /// <summary>Creates the exception.</summary>
    public LeaseLostException(string holder, IReadOnlyList<string> streams)
        : base($"Holder '{holder}' no longer holds the lease of {streams.Count} target(s), first '{streams[0]}'; its transaction must roll back.")
    {
        Holder = holder;
        Streams = streams;
    }

    /// <summary>The holder that lost the leases.</summary>
    public string Holder { get; }

    /// <summary>The target streams whose lease was lost.</summary>
    public IReadOnlyList<string> Streams { get; }
}
