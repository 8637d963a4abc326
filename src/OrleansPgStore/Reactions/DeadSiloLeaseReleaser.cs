using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrleansPgStore.Options;

namespace OrleansPgStore.Reactions;

/// <summary>
/// Watches the cluster's membership and, when a silo is declared dead, releases the leases its reaction workers
/// held (their holder names start with the silo's address), then wakes this silo's workers: the targets and the
/// discovery are taken over within moments instead of when the leases expire. Runs on every silo; releasing twice
/// is harmless.
/// </summary>
internal sealed partial class DeadSiloLeaseReleaser(
    string name, PostgresReactionOptions options, IServiceProvider services, ILogger<DeadSiloLeaseReleaser> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stop = new();
    private readonly HashSet<SiloAddress> _released = [];
    private Task? _watching;

    public void Participate(ISiloLifecycle lifecycle)
    {
        if (options.HasReactions && options.Workers > 0)
        {
            lifecycle.Subscribe($"{nameof(DeadSiloLeaseReleaser)}-{name}", ServiceLifecycleStage.Active, StartAsync, StopAsync);
        }
    }

    private Task StartAsync(CancellationToken cancellationToken)
    {
        _watching = Task.Run(() => WatchAsync(_stop.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_watching is not null)
        {
            await _watching.ConfigureAwait(false);
        }
    }

    private async Task WatchAsync(CancellationToken stop)
    {
        var membership = services.GetRequiredService<IClusterMembershipService>();
        var runtime = services.GetRequiredKeyedService<PostgresReactionRuntime>(name);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stop).ConfigureAwait(false))
                {
                    foreach (var dead in snapshot.Members.Values.Where(m => m.Status == SiloStatus.Dead && !_released.Contains(m.SiloAddress)))
                    {
                        var released = await runtime.Leases.ReleaseHeldByAsync(
                            PostgresReactionRuntime.HolderPrefix(dead.SiloAddress.ToParsableString()), stop).ConfigureAwait(false);
                        _released.Add(dead.SiloAddress);
                        LogReleased(logger, released, dead.SiloAddress.ToParsableString(), name);
                        runtime.WakeAll();
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The database may be away: the next membership update (or this retry) tries again.
                LogFailed(logger, e, name);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Released {Count} leases of the reaction workers of dead silo {Silo} ('{Name}')")]
    private static partial void LogReleased(ILogger logger, int count, string silo, string name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Releasing the leases of dead silos failed for '{Name}'; trying again")]
    private static partial void LogFailed(ILogger logger, Exception exception, string name);
}
