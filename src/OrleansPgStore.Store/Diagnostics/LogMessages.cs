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

    [LoggerMessage(EventId = 1030, Level = LogLevel.Error,
        Message = "Positions of {Table} regressed (newest stored transaction {Stored}, next {Next}): the database was restored into another cluster; appends are refused until 'orleanspgstore positions rebase' runs")]
    public static partial void PositionsRegressed(this ILogger logger, string table, long stored, long next);

    [LoggerMessage(EventId = 1031, Level = LogLevel.Warning,
        Message = "Rebased positions of {Table}: offset {Before} -> {After}; new events land above every stored position")]
    public static partial void PositionsRebased(this ILogger logger, string table, long before, long after);

    [LoggerMessage(EventId = 1032, Level = LogLevel.Warning, Message = "{Message}")]
    public static partial void FeedNotSettled(this ILogger logger, string message);

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

    /// <summary>
    /// A handler failed and will be retried. Calm: the first attempt's failure is a Warning with the stack, later ones
    /// are Debug lines that count (the target is blocked, at Error, when the retries run out).
    /// </summary>
    public static void TargetRetrying(this ILogger logger, string stream, long attempt, double delayMs, Exception exception)
    {
        var delay = Durations.Format(TimeSpan.FromMilliseconds(delayMs));
        if (attempt <= 1)
        {
            logger.TargetFailed(stream, delay, exception);
        }
        else
        {
            logger.TargetFailedAgain(stream, attempt, exception.Message, delay);
        }
    }

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning,
        Message = "Handler failed on target '{Stream}'; retrying in {Delay} (further attempts are logged at Debug until it succeeds or is blocked)")]
    private static partial void TargetFailed(this ILogger logger, string stream, string delay, Exception exception);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Debug,
        Message = "Handler failed again on target '{Stream}' (attempt {Attempt}: {Error}); retrying in {Delay}")]
    private static partial void TargetFailedAgain(this ILogger logger, string stream, long attempt, string error, string delay);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Error,
        Message = "Handler failed on target '{Stream}' (attempt {Attempt}); retries exhausted, blocking it")]
    public static partial void TargetBlocked(this ILogger logger, string stream, long attempt, Exception exception);

    /// <summary>
    /// A worker's cycle failed (usually the database is away) and will be retried. Calm: the first failure of a run is
    /// a Warning with the stack, later ones are Debug lines that count, and a run lasting past a minute is one Error.
    /// </summary>
    public static void CycleFailed(this ILogger logger, string holder, double delayMs, Outage outage, OutageStep step, Exception exception)
    {
        var delay = Durations.Format(TimeSpan.FromMilliseconds(delayMs));
        switch (step)
        {
            case OutageStep.First:
                logger.CycleFailedFirst(holder, delay, exception);
                break;
            case OutageStep.Lasting:
                logger.CycleStillFailing(holder, Durations.Format(outage.Duration), outage.Failures, exception.Message, delay);
                break;
            default:
                logger.CycleFailedAgain(holder, outage.Failures, exception.Message, delay);
                break;
        }
    }

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning,
        Message = "Reaction cycle of worker {Holder} failed; retrying in {Delay} (further failures are logged at Debug until a cycle succeeds)")]
    private static partial void CycleFailedFirst(this ILogger logger, string holder, string delay, Exception exception);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Debug,
        Message = "Reaction cycle of worker {Holder} failed again (failure {Failures}: {Error}); retrying in {Delay}")]
    private static partial void CycleFailedAgain(this ILogger logger, string holder, int failures, string error, string delay);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Error,
        Message = "Reaction cycles of worker {Holder} have been failing for {Duration} ({Failures} failures, last error: {Error}); still retrying every {Delay}")]
    private static partial void CycleStillFailing(this ILogger logger, string holder, string duration, int failures, string error, string delay);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning,
        Message = "Fetching the events of {Count} claimed targets in one statement failed; fetching them one by one")]
    public static partial void PrefetchFailed(this ILogger logger, int count, Exception exception);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning,
        Message = "Work discovery of worker {Holder} failed; claiming targets with known work goes on, discovery retries next cycle")]
    public static partial void DiscoveryFailed(this ILogger logger, string holder, Exception exception);

    [LoggerMessage(EventId = 3013, Level = LogLevel.Debug, Message = "Released {Count} leases {Holder} held when its last cycle failed")]
    public static partial void LeftLeasesReleased(this ILogger logger, int count, string holder);

    [LoggerMessage(EventId = 3014, Level = LogLevel.Debug, Message = "Releasing the leases {Holder} held when its last cycle failed did not work ({Reason}); trying again next cycle")]
    public static partial void LeftLeasesNotReleased(this ILogger logger, string holder, string reason);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Debug, Message = "Announcing new work failed; other workers find it by polling")]
    public static partial void AnnounceFailed(this ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Warning,
        Message = "Worker {Holder} could not release its leases on stopping; other workers take them over when they expire")]
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
