namespace OrleansPgStore.Store.Errors;

/// <summary>
/// A database call failed for a reason other than a concurrency conflict (connection lost, timeout,
/// server error). The message names the operation; the original exception is kept as
/// <see cref="Exception.InnerException"/>, and <see cref="OrleansPgStoreException.IsTransient"/> says
/// whether a retry may succeed.
/// </summary>
public sealed class StoreOperationException : OrleansPgStoreException
{
    /// <summary>Creates the exception.</summary>
    internal StoreOperationException(string operation, Exception innerException)
        : base($"{operation} failed: {Describe(innerException)}", innerException)
    {
        Operation = operation;
    }

    /// <summary>The operation that failed, e.g. <c>Commit to stream 'orders-1'</c>.</summary>
    public string Operation { get; }

    // Npgsql's outer message is often generic ("Exception while reading from stream"); the cause (a timeout, a
    // refused connection) is in the inner exceptions, so the message carries the chain.
    private static string Describe(Exception exception)
    {
        var messages = new List<string>();
        for (var e = exception; e is not null && messages.Count < 3; e = e.InnerException)
        {
            if (!messages.Contains(e.Message))
            {
                messages.Add(e.Message);
            }
        }

        return string.Join(": ", messages);
    }
}
