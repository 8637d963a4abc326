namespace OrleansPgStore.Store.Errors;

/// <summary>
/// An optimistic-concurrency check failed: the caller's view of a stream or state is stale.
/// Nothing was written. Reload, then decide whether to retry.
/// </summary>
public abstract class ConcurrencyException : OrleansPgStoreException
{
    /// <summary>Creates the exception.</summary>
    private protected ConcurrencyException(string message, Exception? innerException) : base(message, innerException)
    {
    }
}
