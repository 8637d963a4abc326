using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Metadata;
using OrleansPgStore.Options;

namespace OrleansPgStore.Reactions;

/// <summary>
/// This silo's part in keeping one registration's reaction workers running. When the silo becomes active it starts
/// the silo's LISTEN connection and makes sure every worker grain is started (Orleans places the missing ones, see
/// <see cref="ReactionWorkerPlacement"/>); it checks again whenever the set of active silos changes and every
/// <see cref="PostgresReactionOptions.WorkerCheckInterval"/>, so the workers of a failed silo come back on the
/// survivors even without a reminder service. When a silo is declared dead it releases the leases that silo's
/// workers held and wakes this silo's workers, so their targets are taken over within moments instead of when the
/// leases expire. Runs on every silo that runs the reactions (idempotent), and says so in the silo's grain manifest,
/// where placement looks for it. Registered unkeyed, as the silo only runs unkeyed participants.
/// </summary>
internal sealed partial class ReactionWorkerSupervisor(
    string name, PostgresReactionOptions options, IServiceProvider services, ILogger<ReactionWorkerSupervisor> logger)
    : ILifecycleParticipant<ISiloLifecycle>, IGrainPropertiesProvider
{
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _membershipChanged = new(0);
    private readonly HashSet<SiloAddress> _released = [];
    private Task? _checking;
    private Task? _watching;

    public void Participate(ISiloLifecycle lifecycle)
    {
        if (options.HasReactions && options.Workers > 0)
        {
            lifecycle.Subscribe($"{nameof(ReactionWorkerSupervisor)}-{name}", ServiceLifecycleStage.Active, StartAsync, StopAsync);
        }
    }

    /// <summary>Writes <see cref="ReactionWorkerPlacement.RunsReactionsProperty"/> into this silo's manifest when it runs the workers.</summary>
    public void Populate(Type grainClass, GrainType grainType, Dictionary<string, string> properties)
    {
        if (grainClass == typeof(ReactionWorkerGrain) && options.HasReactions && options.Workers > 0)
        {
            properties[ReactionWorkerPlacement.RunsReactionsProperty(name)] = "true";
        }
    }

    private PostgresReactions Reactions => services.GetRequiredKeyedService<PostgresReactions>(name);

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        await Reactions.StartListeningAsync(cancellationToken).ConfigureAwait(false);
        await CheckWorkersAsync().ConfigureAwait(false);
        LogWorkersStarted(logger, options.Workers, options.Lanes.Count, name);
        _watching = Task.Run(() => WatchMembershipAsync(_stop.Token), CancellationToken.None);
        if (options.WorkerCheckInterval != Timeout.InfiniteTimeSpan)
        {
            _checking = Task.Run(() => CheckPeriodicallyAsync(_stop.Token), CancellationToken.None);
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

        await Reactions.StopListeningAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Starts every worker not running (placement picks its silo), then moves the few a balanced spread needs.
    /// Orleans places only new activations, so a silo that joins would otherwise get no worker until one fails: a silo
    /// running fewer than ⌊N/n⌋ of the N workers pulls in the ones placement now assigns it, and one running more
    /// than ⌈N/n⌉ lets go of those it assigns elsewhere. A silo's death moves only that silo's workers: re-placed on
    /// the survivors, they leave every survivor within those bounds.
    /// </summary>
    internal async Task CheckWorkersAsync()
    {
        var grains = services.GetRequiredService<IGrainFactory>();
        var all = ReactionWorkerKey.All(name, options);
        await Task.WhenAll(all.Select(key => grains.GetGrain<IReactionWorkerGrain>(key.ToString()).EnsureStartedAsync())).ConfigureAwait(false);

        // The same view of the silos as this silo's placement (active members that run the reactions).
        var placement = services.GetRequiredService<ReactionWorkerPlacementDirector>();
        var local = services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
        var workerType = grains.GetGrain<IReactionWorkerGrain>(all[0].ToString()).GetGrainId().Type;
        var silos = placement.Silos(name, workerType);
        if (!silos.Contains(local))
        {
            return;   // not yet active with the workers in this silo's view (or leaving): nothing to balance against.
        }

        var here = Reactions.LocalWorkers;
        var (fewest, most) = (all.Count / silos.Count, (all.Count + silos.Count - 1) / silos.Count);
        var belongHere = all.Where(key => placement.SiloFor(key, silos).Equals(local)).Select(key => key.ToString());
        var move = here.Count < fewest ? belongHere.Where(key => !here.Contains(key)).Take(fewest - here.Count)
            : here.Count > most ? here.Except(belongHere).Take(here.Count - most)
            : [];
        foreach (var key in move.ToList())
        {
            // The worker moves only if its own silo's placement names the same destination (views can differ for a moment).
            var destination = placement.SiloFor(ReactionWorkerKey.Parse(key), silos);
            if (await grains.GetGrain<IReactionWorkerGrain>(key).MoveToItsSiloAsync(destination).ConfigureAwait(false))
            {
                LogMoving(logger, key, destination, here.Count, fewest, most);
            }
        }
    }

    private async Task CheckPeriodicallyAsync(CancellationToken stop)
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

                await CheckWorkersAsync().ConfigureAwait(false);
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

    /// <summary>
    /// Follows membership: releases the leases of silos declared dead (then wakes this silo's workers to take their
    /// targets) and signals a check whenever the set of active silos changes.
    /// </summary>
    private async Task WatchMembershipAsync(CancellationToken stop)
    {
        var membership = services.GetRequiredService<IClusterMembershipService>();
        HashSet<SiloAddress>? known = null;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stop).ConfigureAwait(false))
                {
                    foreach (var dead in snapshot.Members.Values.Where(m => m.Status == SiloStatus.Dead && !_released.Contains(m.SiloAddress)))
                    {
                        var released = await Reactions.Leases.ReleaseHeldByAsync(
                            PostgresReactions.HolderPrefix(dead.SiloAddress.ToParsableString()), stop).ConfigureAwait(false);
                        _released.Add(dead.SiloAddress);
                        LogReleased(logger, released, dead.SiloAddress.ToParsableString(), name);
                        Reactions.WakeAll();
                    }

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
                return;
            }
            catch (Exception e)
            {
                // The database may be away: the next membership update (or this retry) tries again.
                LogReleaseFailed(logger, e, name);
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

    [LoggerMessage(Level = LogLevel.Information, Message = "{Count} reaction workers per lane in {Lanes} lanes of '{Name}' are running")]
    private static partial void LogWorkersStarted(ILogger logger, int count, int lanes, string name);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Reaction worker {Worker} moves to {Destination}, the silo placement names for it: this silo runs {Count} workers, a balanced share is {Fewest} to {Most}")]
    private static partial void LogMoving(ILogger logger, string worker, SiloAddress destination, int count, int fewest, int most);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checking the reaction workers of '{Name}' failed; trying again later")]
    private static partial void LogCheckFailed(ILogger logger, Exception exception, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "Released {Count} leases of the reaction workers of dead silo {Silo} ('{Name}')")]
    private static partial void LogReleased(ILogger logger, int count, string silo, string name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Releasing the leases of dead silos failed for '{Name}'; trying again")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception, string name);
}
