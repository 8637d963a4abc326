using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrleansPgStore.Options;

namespace OrleansPgStore.Reactions;

/// <summary>
/// When the silo becomes active, starts the silo's LISTEN connection and makes sure this silo's share of the reaction
/// worker grains runs; then checks again whenever the set of active silos changes and every
/// <see cref="PostgresReactionOptions.WorkerCheckInterval"/>, so workers move to a silo that joins and come back on
/// the survivors of one that fails, even without a reminder service. Runs on every silo (idempotent). Registered
/// unkeyed, as the silo only runs unkeyed participants.
/// </summary>
internal sealed partial class ReactionWorkerStarter(
    string name, PostgresReactionOptions options, IServiceProvider services, ILogger<ReactionWorkerStarter> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _membershipChanged = new(0);
    private Task? _checking;
    private Task? _watching;

    public void Participate(ISiloLifecycle lifecycle)
    {
        if (options.HasReactions && options.Workers > 0)
        {
            lifecycle.Subscribe($"{nameof(ReactionWorkerStarter)}-{name}", ServiceLifecycleStage.Active, StartAsync, StopAsync);
        }
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        var runtime = services.GetRequiredKeyedService<PostgresReactionRuntime>(name);
        await runtime.StartListeningAsync(cancellationToken).ConfigureAwait(false);
        await EnsureWorkersAsync().ConfigureAwait(false);
        LogWorkersStarted(logger, options.Workers, options.Lanes.Count, name);
        if (options.WorkerCheckInterval != Timeout.InfiniteTimeSpan)
        {
            _watching = Task.Run(() => WatchMembershipAsync(_stop.Token), CancellationToken.None);
            _checking = Task.Run(() => CheckAsync(_stop.Token), CancellationToken.None);
        }
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var task in new[] { _watching, _checking })
        {
            if (task is not null)
            {
                await task.ConfigureAwait(false);
            }
        }

        await services.GetRequiredKeyedService<PostgresReactionRuntime>(name).DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Asks for this silo's share of the workers: the lanes' workers are numbered one after the other (lanes in ordinal
    /// order, the same on every silo), and worker k belongs on the silo ranked k mod n among the n active silos (ordered
    /// by address), so every silo runs the same number, give or take one, and one worker per lane does not pile up on
    /// one silo. When a silo dies, the survivors' shares grow to cover its workers.
    /// </summary>
    private Task EnsureWorkersAsync()
    {
        var grains = services.GetRequiredService<IGrainFactory>();
        var local = services.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToParsableString();
        // This silo counts as active even before its own snapshot says so (it runs at the Active stage): a silo that
        // left itself out would take every worker, and the others would lose theirs until their next check.
        var active = services.GetRequiredService<IClusterMembershipService>().CurrentSnapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active)
            .Select(m => m.SiloAddress.ToParsableString())
            .Append(local)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();
        var rank = active.IndexOf(local);
        return Task.WhenAll(options.Lanes
            .SelectMany(lane => Enumerable.Range(0, options.Workers).Select(i => new ReactionWorkerKey(name, lane, i)))
            .Where((_, k) => k % active.Count == rank)
            .Select(key => grains.GetGrain<IReactionWorkerGrain>(key.ToString()).EnsureStartedAsync(local)));
    }

    private async Task CheckAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                // Whichever comes first: the interval, or a change in the set of active silos.
                await _membershipChanged.WaitAsync(options.WorkerCheckInterval, stop).ConfigureAwait(false);
                while (_membershipChanged.CurrentCount > 0)
                {
                    await _membershipChanged.WaitAsync(stop).ConfigureAwait(false);
                }

                await EnsureWorkersAsync().ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogCheckFailed(logger, e, name);
            }
        }
    }

    /// <summary>Signals a check whenever the set of active silos changes (a silo joined, or one was declared dead).</summary>
    private async Task WatchMembershipAsync(CancellationToken stop)
    {
        var membership = services.GetRequiredService<IClusterMembershipService>();
        HashSet<SiloAddress>? known = null;
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stop).ConfigureAwait(false))
            {
                var active = snapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress).ToHashSet();
                if (known is not null && !known.SetEquals(active))
                {
                    _membershipChanged.Release();
                }

                known = active;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // The periodic checks go on without it.
            LogWatchFailed(logger, e, name);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Watching membership for the reaction workers of '{Name}' failed; they are checked every interval only")]
    private static partial void LogWatchFailed(ILogger logger, Exception exception, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Count} reaction workers per lane in {Lanes} lanes of '{Name}' are running")]
    private static partial void LogWorkersStarted(ILogger logger, int count, int lanes, string name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checking the reaction workers of '{Name}' failed; trying again later")]
    private static partial void LogCheckFailed(ILogger logger, Exception exception, string name);
}
