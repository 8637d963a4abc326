using Npgsql;

namespace OrleansPgStore.Store.Reactions;

public sealed partial class ReactionLoop
{
    // A kill storm or a restart leaves every idle pooled connection dead, and each is found out only when used: a few
    // immediate retries get past them instead of failing the cycle (and backing the worker off) on each one.
    private const int StepAttempts = 4;

    /// <summary>
    /// Runs a step, retrying at once when its connection turned out to be dead. With <paramref name="redoable"/> any
    /// transient failure is retried (reads, and the fenced projection transaction, which a stale redo cannot commit);
    /// otherwise only failures where the server said it had dropped the connection before running the statement.
    /// </summary>
    private async Task<T> StepAsync<T>(Func<Task<T>> step, bool redoable, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await step().ConfigureAwait(false);
            }
            catch (Exception e) when (attempt < StepAttempts && !cancellationToken.IsCancellationRequested
                                      && (redoable ? IsTransient(e) : IsDroppedByServer(e)))
            {
                // A lost connection may mean the server crashed and lost this loop's last asynchronous writes: its
                // discovery position is read again, and leases it may still hold are handed back next cycle.
                SuspectLostWrites();
                if (IsDroppedByServer(e))
                {
                    // The server ended this session, most likely the pool's other idle ones too (a restart, a storm of
                    // kills): drop them all rather than find each one out by failing on it.
                    _leases.ClearIdleConnections();
                    _journal.ClearIdleConnections();
                }
            }
        }
    }

    /// <summary>
    /// After a lost connection or a failed step: the server may have crashed, and an asynchronous commit acknowledged
    /// to this loop (an advance of the checkpoint, an ack) may be gone. Forget the cached checkpoint, so the next
    /// discovery reads where it really is, and hand back whatever leases this loop may still hold before its next claim.
    /// </summary>
    private void SuspectLostWrites()
    {
        _checkpoint = null;
        _leftLeases = true;
    }

    /// <summary>The server terminated the session (administrator command, crash, shutdown): the statement did not run.</summary>
    private static bool IsDroppedByServer(Exception e)
        => Chain(e).OfType<PostgresException>().Any(p => p.SqlState is PostgresErrorCodes.AdminShutdown
            or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow);

    private static bool IsTransient(Exception e)
        => IsDroppedByServer(e) || Chain(e).OfType<NpgsqlException>().Any(n => n.IsTransient);

    private static IEnumerable<Exception> Chain(Exception e)
    {
        for (var current = e; current is not null; current = current.InnerException)
        {
            yield return current;
        }
    }
}
