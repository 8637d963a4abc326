using Microsoft.Extensions.Logging;
using OrleansPgStore.Store.Diagnostics;

namespace OrleansPgStore.EventSourcing;

internal sealed partial class PostgresLogViewAdaptor<TLogView, TLogEntry>
{
    // An outage longer than this needs a person (the database is gone, not blinking): logged once at Error.
    private static readonly TimeSpan OutageWorthAnError = TimeSpan.FromMinutes(1);

    private bool _outageEscalated;

    /// <summary>
    /// Calm logs for a read or write that failed and will be retried: the first failure of an outage is a Warning
    /// with its stack, later attempts are Debug lines that count, and an outage outlasting a minute is one Error.
    /// Called right after the failure was recorded in <c>LastPrimaryIssue</c>.
    /// </summary>
    /// <param name="exception">The failure.</param>
    /// <param name="operation">What failed, completed by "stream X".</param>
    /// <param name="write">A write, whose outcome is unknown: the retry resends the same event ids.</param>
    private void LogRetrying(Exception exception, string operation, bool write = false)
    {
        var outcome = write ? " or its outcome is unknown (the retry resends the same event ids, so nothing is appended twice)" : "";
        var issue = LastPrimaryIssue.Issue;
        var attempt = issue?.NumberOfConsecutiveFailures ?? 1;
        var delay = Durations.Format(issue?.RetryDelay ?? TimeSpan.Zero);
        if (attempt <= 1)
        {
            _outageEscalated = false;
            LogOutageStarted(_context.Logger, exception, operation, _stream, outcome, delay);
        }
        else if (!_outageEscalated && issue is not null && issue.TimeStamp - issue.TimeOfFirstFailure >= OutageWorthAnError)
        {
            _outageEscalated = true;
            LogOutageLasting(_context.Logger, operation, _stream, Durations.Format(issue.TimeStamp - issue.TimeOfFirstFailure), attempt, exception.Message);
        }
        else
        {
            LogOutageRetry(_context.Logger, operation, _stream, attempt, exception.Message, delay);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "{Operation} stream {Stream} failed{Outcome}; retrying in {Delay} (further attempts are logged at Debug until it succeeds)")]
    private static partial void LogOutageStarted(ILogger logger, Exception exception, string operation, string stream, string outcome, string delay);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Operation} stream {Stream} failed again (attempt {Attempt}: {Error}); retrying in {Delay}")]
    private static partial void LogOutageRetry(ILogger logger, string operation, string stream, int attempt, string error, string delay);

    [LoggerMessage(Level = LogLevel.Error,
        Message = "{Operation} stream {Stream} has been failing for {Duration} ({Attempts} attempts, last error: {Error}); the grain's reads and writes fail until the database is reachable")]
    private static partial void LogOutageLasting(ILogger logger, string operation, string stream, string duration, int attempts, string error);
}
