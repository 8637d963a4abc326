using Microsoft.Extensions.Logging;

namespace OrleansPgStore.Store.Diagnostics;

/// <summary>The engine's log messages. Event ids: 1xxx journal, 2xxx durable state, 3xxx reactions and leases, 8xxx connections, 9xxx schema.</summary>
internal static partial class LogMessages
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Debug,
        Message = "Commit to stream '{Stream}' conflicted: expected version {Expected}, actual {Actual}")]
    public static partial void StreamConflict(this ILogger logger, string stream, long expected, long actual);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Debug,
        Message = "Commit to stream '{Stream}' raced another writer; retrying (attempt {Attempt})")]
    public static partial void CommitRaceRetry(this ILogger logger, string stream, int attempt);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Debug,
        Message = "Commit to stream '{Stream}' matched {Count} stored event ids; returned the stored events")]
    public static partial void IdempotentCommit(this ILogger logger, string stream, int count);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Warning,
        Message = "Commit listener on channel '{Channel}' lost its connection; reconnecting in {Delay} (further attempts are logged at Debug until it is back)")]
    public static partial void ListenerReconnecting(this ILogger logger, string channel, string delay, Exception exception);

    [LoggerMessage(EventId = 1012, Level = LogLevel.Debug,
        Message = "Commit listener on channel '{Channel}' is still reconnecting: attempt {Attempt} failed ({Error}); next in {Delay}")]
    public static partial void ListenerStillReconnecting(this ILogger logger, string channel, int attempt, string error, string delay);

    [LoggerMessage(EventId = 1013, Level = LogLevel.Error,
        Message = "Commit listener on channel '{Channel}' has been disconnected for {Duration} ({Attempts} attempts, last error: {Error}); reactions only poll until the database is reachable again")]
    public static partial void ListenerDown(this ILogger logger, string channel, string duration, int attempts, string error);

    [LoggerMessage(EventId = 1014, Level = LogLevel.Information,
        Message = "Commit listener on channel '{Channel}' reconnected after {Attempts} failed attempts over {Duration}")]
    public static partial void ListenerRestored(this ILogger logger, string channel, int attempts, string duration);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Warning, Message = "Commit listener callback on channel '{Channel}' failed")]
    public static partial void ListenerCallbackFailed(this ILogger logger, string channel, Exception exception);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Debug,
        Message = "Write of state '{PersistenceId}' conflicted: expected revision {Expected}, actual {Actual}")]
    public static partial void StateConflict(this ILogger logger, string persistenceId, long expected, long actual);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning,
        Message = "Report for target '{Stream}' by {Holder} was dropped: the lease had moved on; the work will be redone")]
    public static partial void LeaseReportDropped(this ILogger logger, string stream, string holder);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning,
        Message = "Handler failed on target '{Stream}' (attempt {Attempt}); retrying in {DelayMs} ms")]
    public static partial void TargetRetrying(this ILogger logger, string stream, long attempt, double delayMs, Exception exception);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Error,
        Message = "Handler failed on target '{Stream}' (attempt {Attempt}); retries exhausted, blocking it")]
    public static partial void TargetBlocked(this ILogger logger, string stream, long attempt, Exception exception);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Error, Message = "Reaction cycle of worker {Holder} failed; retrying in {DelayMs} ms")]
    public static partial void CycleFailed(this ILogger logger, string holder, double delayMs, Exception exception);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning,
        Message = "Fetching the events of {Count} claimed targets in one statement failed; fetching them one by one")]
    public static partial void PrefetchFailed(this ILogger logger, int count, Exception exception);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning,
        Message = "Work discovery of worker {Holder} failed; claiming targets with known work goes on, discovery retries next cycle")]
    public static partial void DiscoveryFailed(this ILogger logger, string holder, Exception exception);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Debug, Message = "Announcing new work failed; other workers find it by polling")]
    public static partial void AnnounceFailed(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Warning,
        Message = "Worker {Holder} could not release its correlation lease on stopping; another worker takes it over when it expires")]
    public static partial void ReleaseFailed(this ILogger logger, string holder, Exception exception);

    [LoggerMessage(EventId = 8001, Level = LogLevel.Debug,
        Message = "Preparing the statements of {Table} on a new connection was skipped: {Reason}")]
    public static partial void WarmUpSkipped(this ILogger logger, Exception exception, string table, string reason);

    [LoggerMessage(EventId = 9001, Level = LogLevel.Information,
        Message = "Seeded {Table} in {ElapsedMs} ms")]
    public static partial void Seeded(this ILogger logger, string table, long elapsedMs);

    [LoggerMessage(EventId = 9002, Level = LogLevel.Information, Message = "Dropped {Table}")]
    public static partial void Dropped(this ILogger logger, string table);
}
