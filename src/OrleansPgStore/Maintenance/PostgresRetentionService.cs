using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansPgStore.Hosting;
using OrleansPgStore.Options;
using OrleansPgStore.Store.Diagnostics;
using OrleansPgStore.Store.Journal;

namespace OrleansPgStore.Maintenance;

/// <summary>Runs the journal's windowed retention every <see cref="PostgresRetentionOptions.Interval"/> on this silo.</summary>
internal sealed partial class PostgresRetentionService(
    string name, PostgresRetentionOptions options, Func<PostgresJournalServices> services, TimeProvider time, ILogger<PostgresRetentionService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.KeepFor is not { } keepFor)
        {
            return;
        }

        // Silos started together would otherwise trim at the same moments.
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

    /// <summary>One retention run; failures are logged and retried at the next interval.</summary>
    internal async Task<RetentionProgress?> RunOnceAsync(TimeSpan keepFor, CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow() - keepFor;
        var started = time.GetTimestamp();
        try
        {
            LogStarting(logger, name, cutoff);
            var progress = new Progress(logger, name);
            var done = await services().Journal.RunRetentionAsync(cutoff, options.BatchSize, progress, cancellationToken).ConfigureAwait(false);
            LogDone(logger, name, done.RowsDeleted, done.StreamsDone, Durations.Format(time.GetElapsedTime(started)));
            return done;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception e)
        {
            LogFailed(logger, e, name, Durations.Format(options.Interval));
            return null;
        }
    }

    /// <summary>Logs every batch at Debug; the run's totals go to Information at the end.</summary>
    private sealed class Progress(ILogger logger, string name) : IProgress<RetentionProgress>
    {
        public void Report(RetentionProgress value) => LogProgress(logger, name, value.StreamsDone, value.StreamsTotal, value.RowsDeleted);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention of journal '{Name}': trimming history behind snapshots older than {Cutoff:u}")]
    private static partial void LogStarting(ILogger logger, string name, DateTimeOffset cutoff);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Retention of journal '{Name}': {Done}/{Total} streams, {Rows} rows deleted")]
    private static partial void LogProgress(ILogger logger, string name, long done, long total, long rows);

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention of journal '{Name}' deleted {Rows} rows from {Streams} streams in {Duration}")]
    private static partial void LogDone(ILogger logger, string name, long rows, long streams, string duration);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retention of journal '{Name}' failed; trying again in {Interval}")]
    private static partial void LogFailed(ILogger logger, Exception exception, string name, string interval);
}
