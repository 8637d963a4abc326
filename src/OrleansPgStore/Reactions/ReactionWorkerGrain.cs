using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Placement;
using OrleansPgStore.Store.Reactions;

namespace OrleansPgStore.Reactions;

/// <summary>
/// Hosts one engine <see cref="ReactionWorker"/> for as long as the activation lives: the worker claims target
/// streams, runs the handlers and acks, competing with the workers on other silos through leases in PostgreSQL.
/// A worker that dies loses only its leases, which expire and are claimed by another worker.
/// </summary>
/// <remarks>
/// Kept alive while its silo runs, and revived by a reminder after a silo fails. Placed on the silo with the
/// fewest activations, so N workers spread over the silos.
/// </remarks>
[KeepAlive]
[ActivationCountBasedPlacement]
internal sealed partial class ReactionWorkerGrain : Grain, IReactionWorkerGrain, IRemindable
{
    private const string ReminderName = "orleanspgstore.reaction-worker";

    private readonly IServiceProvider _services;
    private readonly ILogger<ReactionWorkerGrain> _logger;
    private PostgresReactionRuntime? _runtime;
    private ReactionWorker? _worker;
    private bool _reminderRegistered;

    public ReactionWorkerGrain(IServiceProvider services, ILogger<ReactionWorkerGrain> logger)
    {
        _services = services;
        _logger = logger;
    }

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var key = this.GetPrimaryKeyString();
        var name = key[..Math.Max(0, key.LastIndexOf('/'))];
        _runtime = _services.GetRequiredKeyedService<PostgresReactionRuntime>(name);
        _worker = _runtime.CreateWorker($"{RuntimeIdentity}/{key}");
        await _worker.StartAsync(cancellationToken).ConfigureAwait(true);
        _runtime.Attach(_worker);
        LogStarted(_logger, key, RuntimeIdentity);
    }

    public async Task EnsureStartedAsync()
    {
        // Every silo calls this at start and then periodically: register the reminder once per activation.
        if (_reminderRegistered)
        {
            return;
        }

        _reminderRegistered = true;
        var period = _runtime!.Options.ReminderPeriod;
        try
        {
            await this.RegisterOrUpdateReminder(ReminderName, period, period).ConfigureAwait(true);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // No reminder service: the worker still runs; it is just not revived after its silo fails.
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

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Reaction worker {Worker} could not register its reminder (is a reminder service configured?); it will not be revived after a silo failure until a silo starts")]
    private static partial void LogNoReminder(ILogger logger, Exception exception, string worker);
}
