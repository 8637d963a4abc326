namespace OrleansPgStore.Store.Errors;

/// <summary>A durable-state write or delete expected one revision and found another.</summary>
public sealed class StateConcurrencyException : ConcurrencyException
{
    /// <summary>Creates the exception.</summary>
    internal StateConcurrencyException(string persistenceId, long expectedRevision, long actualRevision, Exception? innerException = null)
        : base(
            $"State '{persistenceId}' was expected at revision {expectedRevision} but is at revision {actualRevision}" +
            (actualRevision == 0 ? " (absent)." : "."),
            innerException)
    {
        PersistenceId = persistenceId;
        ExpectedRevision = expectedRevision;
        ActualRevision = actualRevision;
    }

    /// <summary>The persistence id of the state.</summary>
    public string PersistenceId { get; }

    /// <summary>The revision the caller expected (0: the state should not exist).</summary>
    public long ExpectedRevision { get; }

    /// <summary>The stored revision when the write was rejected (0: no state is stored).</summary>
    public long ActualRevision { get; }
}
