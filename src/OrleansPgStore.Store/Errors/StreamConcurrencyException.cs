namespace OrleansPgStore.Store.Errors;

/// <summary>A commit expected a stream to end at one version and found another.</summary>
public sealed class StreamConcurrencyException : ConcurrencyException
{
    /// <summary>Creates the exception.</summary>
    internal StreamConcurrencyException(string stream, long expectedVersion, long actualVersion, Exception? innerException = null)
        : base(
            $"Stream '{stream}' was expected at version {expectedVersion} but is at version {actualVersion}" +
            (actualVersion < 0 ? " (empty)." : "."),
            innerException)
    {
        Stream = stream;
        ExpectedVersion = expectedVersion;
        ActualVersion = actualVersion;
    }

    /// <summary>The stream the commit targeted.</summary>
    public string Stream { get; }

    /// <summary>The version the caller expected the stream's last event to have (-1: empty).</summary>
    public long ExpectedVersion { get; }

    /// <summary>The version of the stream's last event when the commit was rejected (-1: empty).</summary>
    public long ActualVersion { get; }
}
