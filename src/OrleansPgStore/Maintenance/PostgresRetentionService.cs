using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansPgStore.Store;
using OrleansPgStore.Options;
using OrleansPgStore.Store.Diagnostics;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;

namespace OrleansPgStore.Maintenance;

/// <summary>
/// Runs the journal's windowed retention on <see cref="PostgresRetentionOptions.Interval"/>: every silo keeps the
/// schedule, and whichever takes the interval's turn (a lease row in the subscriptions table, kept to the interval's
/// end) trims; the others skip until it runs out.
/// </summary>
internal sealed partial class PostgresRetentionService(
    string name, PostgresRetentionOptions options, Func<PgStore> services, TimeProvider time, ILogger<PostgresRetentionService> logger)
    : BackgroundService
{
    private readonly string _holder = $"retention/{name}/{Environment.MachineName}/{Guid.NewGuid().ToString("N")[..8]}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.KeepFor is not { } keepFor)
        {
            return;
        }

        // Silos started together would otherwise try for the turn at the same moments.
        var delay = options.Interval * Random.Shared.NextDouble();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(delay, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            delay = options.Interval;
            await RunOnceAsync(keepFor, stoppingToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// One retention run, if this silo gets the interval's turn (<c>null</c> when another has it); failures are logged,
    /// the turn handed back, and retried at the next interval.
    /// </summary>
    internal async Task<RetentionProgress?> RunOnceAsync(TimeSpan keepFor, CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow() - keepFor;
        var started = time.GetTimestamp();
        var taken = false;
        var table = "";
        LeaseStore? turns = null;
        try
        {
            var journal = services();
            table = journal.Journal.QualifiedTable;
            turns = journal.Leases;
            (taken, var resumeFrom) = await turns.TryTakeRetentionTurnAsync(table, _holder, options.Interval, cancellationToken).ConfigureAwait(false);
            if (!taken)
            {
                LogNotOurTurn(logger, name);
                return null;
            }

            LogStarting(logger, name, cutoff);
            var run = new RetentionRun(cutoff)
            {
                BatchSize = options.BatchSize, IgnoreBlockedTargets = options.IgnoreBlockedTargets, SnapshotsSince = resumeFrom,
            };
            var done = await journal.Journal.RunRetentionAsync(run, new Progress(logger, name), cancellationToken).ConfigureAwait(false);
            await turns.FinishRetentionTurnAsync(table, _holder, done.ResumeFrom!.Value, cancellationToken).ConfigureAwait(false);
            LogDone(logger, name, done.RowsDeleted, done.StreamsDone, Durations.Format(time.GetElapsedTime(started)));
            Report(done);
            return done;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await HandBackAsync(taken, table, turns).ConfigureAwait(false);
            return null;
        }
        catch (Exception e)
        {
            LogFailed(logger, e, name, Durations.Format(options.Interval));
            await HandBackAsync(taken, table, turns).ConfigureAwait(false);
            return null;
        }
    }

    private void Report(RetentionProgress done)
    {
        if (done.RowsWithheld > 0 && done.OldestHolder is { } holder)
        {
            LogWithheld(logger, name, done.RowsWithheld, done.StreamsWithheld, holder.Subscription, holder.Table, holder.Watermark, holder.Blocked);
        }

        if (done.UnconsumedDeleted > 0)
        {
            LogUnconsumedDeleted(logger, name, done.UnconsumedDeleted);
        }
    }

    /// <summary>A run that did not finish hands its turn back, so the next silo's schedule tries again; best effort.</summary>
    private async Task HandBackAsync(bool taken, string table, LeaseStore? turns)
    {
        if (!taken || turns is null)
        {
            return;
        }

        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await turns.ReleaseRetentionTurnAsync(table, _holder, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The turn then runs out at the interval's end.
            LogHandBackFailed(logger, e, name);
        }
    }

    /// <summary>Logs every batch at Debug; the run's totals go to Information at the end.</summary>
    private sealed class Progress(ILogger logger, string name) : IProgress<RetentionProgress>
    {
        public void Report(RetentionProgress value) => LogProgress(logger, name, value.StreamsDone, value.StreamsTotal, value.RowsDeleted);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Retention of journal '{Name}': another silo has this interval's turn")]
    private static partial void LogNotOurTurn(ILogger logger, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention of journal '{Name}': trimming history behind snapshots older than {Cutoff:u}")]
    private static partial void LogStarting(ILogger logger, string name, DateTimeOffset cutoff);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Retention of journal '{Name}': {Done}/{Total} streams, {Rows} rows deleted")]
    private static partial void LogProgress(ILogger logger, string name, long done, long total, long rows);

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention of journal '{Name}' deleted {Rows} rows from {Streams} streams in {Duration}")]
    private static partial void LogDone(ILogger logger, string name, long rows, long streams, string duration);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Retention of journal '{Name}' kept {Rows} events in {Streams} streams that subscriptions have not consumed; the oldest holder is " +
                  "'{Holder}' in {Table} at position {Watermark} (blocked: {Blocked}). They go once it passes them")]
    private static partial void LogWithheld(ILogger logger, string name, long rows, long streams, string holder, string table, long watermark, bool blocked);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Retention of journal '{Name}' deleted {Rows} events that blocked targets had not consumed (Retention.IgnoreBlockedTargets): they skip them when unblocked")]
    private static partial void LogUnconsumedDeleted(ILogger logger, string name, long rows);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retention of journal '{Name}' failed; trying again in {Interval}")]
    private static partial void LogFailed(ILogger logger, Exception exception, string name, string interval);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retention of journal '{Name}' could not hand its turn back; it runs out at the end of the interval")]
    private static partial void LogHandBackFailed(ILogger logger, Exception exception, string name);
}
