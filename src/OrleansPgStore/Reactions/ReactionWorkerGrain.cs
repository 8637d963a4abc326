using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Placement;
using Orleans.Runtime.Placement;
using Orleans.Timers;
using OrleansPgStore.Store.Reactions;

namespace OrleansPgStore.Reactions;

/// <summary>
/// Hosts one engine <see cref="ReactionWorker"/> for as long as the activation lives: the worker claims target
/// streams, runs the handlers and acks, competing with the workers on other silos through leases in PostgreSQL.
/// A worker that dies loses only its leases: released as soon as its silo is declared dead, or else when they expire.
/// </summary>
/// <remarks>
/// Kept alive while its silo runs, and revived by a reminder after a silo fails. Placed on the silo that asks for it
/// first: each silo asks only for its share of the workers (see <see cref="ReactionWorkerStarter"/>), so N workers
/// spread evenly over the silos; one found on another silo than its share's migrates there. Its leases
/// carry its silo's address (<c>{silo}/{worker key}/{activation}</c>, see <see cref="ReactionWorkerKey"/>), so they can be released when that silo is
/// declared dead; the activation part keeps a later activation of the same worker from passing for an earlier one whose
/// cycle may still be finishing.
/// </remarks>
[KeepAlive]
[PreferLocalPlacement]
internal sealed partial class ReactionWorkerGrain : Grain, IReactionWorkerGrain, IRemindable
{
    private const string ReminderName = "orleanspgstore.reaction-worker";

    private readonly IServiceProvider _services;
    private readonly ILogger<ReactionWorkerGrain> _logger;
    private readonly string _silo;
    private PostgresReactionRuntime? _runtime;
    private ReactionWorker? _worker;
    private bool _reminderRegistered;

    public ReactionWorkerGrain(IServiceProvider services, ILocalSiloDetails silo, ILogger<ReactionWorkerGrain> logger)
    {
        _services = services;
        _logger = logger;
        _silo = silo.SiloAddress.ToParsableString();
    }

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var key = this.GetPrimaryKeyString();
        var worker = ReactionWorkerKey.Parse(key);
        _runtime = _services.GetRequiredKeyedService<PostgresReactionRuntime>(worker.Provider);
        _worker = _runtime.CreateWorker($"{PostgresReactionRuntime.HolderPrefix(_silo)}{key}/{Guid.NewGuid().ToString("N")[..8]}", worker.Lane);
        await _worker.StartAsync(cancellationToken).ConfigureAwait(true);
        _runtime.Attach(_worker);
        LogStarted(_logger, key, _silo);
    }

    public async Task EnsureStartedAsync(string silo)
    {
        if (!string.Equals(silo, _silo, StringComparison.Ordinal))
        {
            // Placed here before its own silo asked (e.g. this silo started first): move there.
            // Migrate rather than deactivate: a deactivated worker would be re-created wherever the next (possibly
            // stale-routed) call lands; a migration moves it, directory entry included, to the silo named.
            LogMoving(_logger, this.GetPrimaryKeyString(), _silo, silo);
            RequestContext.Set(IPlacementDirector.PlacementHintKey, SiloAddress.FromParsableString(silo));
            MigrateOnIdle();
            return;
        }

        // Every silo calls this at start and then periodically: register the reminder once per activation.
        if (_reminderRegistered)
        {
            return;
        }

        _reminderRegistered = true;
        if (_services.GetService<IReminderRegistry>() is null)
        {
            // Not an error: the workers run and each silo starts its share. Said once per silo, not per worker.
            if (_runtime!.FirstToNoticeNoReminderService())
            {
                LogNoReminderService(_logger);
            }

            return;
        }

        var period = _runtime!.Options.ReminderPeriod;
        try
        {
            await this.RegisterOrUpdateReminder(ReminderName, period, period).ConfigureAwait(true);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The worker still runs; it is just not revived by a reminder after its silo fails.
            LogNoReminder(_logger, e, this.GetPrimaryKeyString());
        }
    }

    public Task<long> GetBusyCyclesAsync() => Task.FromResult(_worker?.BusyCycles ?? 0);

    public Task ReceiveReminder(string reminderName, TickStatus status) => Task.CompletedTask;

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_worker is not null)
        {
            _runtime?.Detach(_worker);
            await _worker.DisposeAsync().ConfigureAwait(true);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Reaction worker {Worker} started on {Silo}")]
    private static partial void LogStarted(ILogger logger, string worker, string silo);

    [LoggerMessage(Level = LogLevel.Information, Message = "Reaction worker {Worker} moves from {Silo} to {Target}, the silo it belongs on")]
    private static partial void LogMoving(ILogger logger, string worker, string silo, string target);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "No reminder service is registered: reaction workers run and each silo starts its share, but a worker is not revived by a reminder. " +
                  "Register one: UsePostgresReminderService() (or UseOrleansPgStore(...) for the whole app on PostgreSQL)")]
    private static partial void LogNoReminderService(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Reaction worker {Worker} could not register its reminder; it will not be revived by a reminder after a silo failure")]
    private static partial void LogNoReminder(ILogger logger, Exception exception, string worker);
}
