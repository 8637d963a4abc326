using Npgsql;

namespace OrleansPgStore.Store.Errors;

/// <summary>Base type of every exception the OrleansPgStore engine throws on purpose.</summary>
public class OrleansPgStoreException : Exception
{
    /// <summary>Creates the exception with a message.</summary>
    public OrleansPgStoreException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public OrleansPgStoreException(string message, Exception? innerException) : base(message, innerException)
    {
    }

    /// <summary>
    /// True when retrying the same call may succeed (a dropped connection, a timeout, a server restart),
    /// as reported by Npgsql for the underlying failure.
    /// </summary>
    public bool IsTransient => InnerException is NpgsqlException { IsTransient: true };
}
