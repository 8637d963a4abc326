using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OrleansPgStore.Options;
using OrleansPgStore.Store;
using OrleansPgStore.Store.Diagnostics;

namespace OrleansPgStore.Maintenance;

/// <summary>
/// Measures reaction lag and blocked targets every <see cref="PostgresReactionOptions.LagSampleInterval"/> for the
/// lag gauges, only while a metrics listener observes them (the measurement is a query).
/// </summary>
internal sealed partial class ReactionLagSampler(
    PostgresReactionOptions options, Func<PgStore> services, TimeProvider time, ILogger<ReactionLagSampler> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.HasReactions)
        {
            return;
        }

        var failing = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            if (StoreInstruments.IsReactionLagObserved)
            {
                try
                {
                    var admin = services().Admin;
                    StoreInstruments.PublishReactionLag(admin.SubscriptionsTable, await admin.ReactionLagAsync(stoppingToken).ConfigureAwait(false));
                    failing = false;
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e) when (!failing)
                {
                    // Once per outage: the health check and the other components report the database itself.
                    failing = true;
                    LogSampleFailed(logger, e);
                }
                catch (Exception)
                {
                    // Still failing; already reported.
                }
            }

            try
            {
                await Task.Delay(options.LagSampleInterval, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Measuring reaction lag failed; the lag gauges keep their last sample until it succeeds")]
    private static partial void LogSampleFailed(ILogger logger, Exception exception);
}
