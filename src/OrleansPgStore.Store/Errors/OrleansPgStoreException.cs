using Npgsql;

namespace OrleansPgStore.Store.Errors;

/// <summary>Base type of every exception the OrleansPgStore engine throws on purpose.</summary>
public class OrleansPgStoreException : Exception
{
    private readonly bool _isTransient;

    /// <summary>Creates the exception with a message.</summary>
    internal OrleansPgStoreException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    internal OrleansPgStoreException(string message, Exception? innerException) : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a message, its cause, and whether retrying may succeed.</summary>
    internal OrleansPgStoreException(string message, Exception? innerException, bool isTransient) : base(message, innerException)
    {
        _isTransient = isTransient;
    }

    /// <summary>
    /// True when retrying the same call may succeed (a dropped connection, a timeout, a server restart),
    /// as reported by Npgsql for the underlying failure, or by whoever gave up retrying.
    /// </summary>
    public bool IsTransient => _isTransient || InnerException is NpgsqlException { IsTransient: true };
}
