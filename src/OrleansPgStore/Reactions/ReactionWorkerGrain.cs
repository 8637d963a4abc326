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

/// <summary>
/// A reaction worker: while active it runs the lease-claim loop of one lane of one <c>AddPostgresJournal</c>
/// registration. Keyed <c>{provider name}/{index}</c> in the default lane, <c>{provider name}/{index}/lane:{lane}</c>
/// (the lane URI-escaped) in another. Each silo starts only the workers that belong on it (its share of every lane
/// with a reaction), not all of them.
/// </summary>
[Alias("OrleansPgStore.Reactions.IReactionWorkerGrain")]
internal interface IReactionWorkerGrain : IGrainWithStringKey
{
    /// <summary>
    /// Activates the worker (which starts its loop) and registers the reminder that revives it. Idempotent. Called by
    /// the silo the worker belongs on (<paramref name="silo"/>); an activation elsewhere migrates there.
    /// </summary>
    [Alias("EnsureStartedOn")]
    Task EnsureStartedAsync(string silo);

    /// <summary>How many cycles of this activation found work (diagnostics and tests).</summary>
    [Alias("GetBusyCycles")]
    Task<long> GetBusyCyclesAsync();
}

/// <summary>
/// The key of a reaction worker grain: <c>{provider}/{index}</c> for the default lane (the key workers always had, so
/// their reminders still find them), <c>{provider}/{index}/lane:{lane, escaped}</c> for another lane. Escaping keeps
/// '/' out of the lane part, so a key splits back into its parts whatever the provider's and the lane's names.
/// </summary>
internal readonly record struct ReactionWorkerKey(string Provider, string Lane, int Index)
{
    private const string LaneMark = "lane:";

    public override string ToString()
        => Lane.Length == 0 ? $"{Provider}/{Index}" : $"{Provider}/{Index}/{LaneMark}{Uri.EscapeDataString(Lane)}";

    public static ReactionWorkerKey Parse(string key)
    {
        var lane = "";
        var last = key.LastIndexOf('/');
        if (last >= 0 && key.AsSpan(last + 1).StartsWith(LaneMark, StringComparison.Ordinal))
        {
            lane = Uri.UnescapeDataString(key[(last + 1 + LaneMark.Length)..]);
            key = key[..last];
            last = key.LastIndexOf('/');
        }

        if (last < 0 || !int.TryParse(key.AsSpan(last + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index))
        {
            throw new FormatException($"'{key}' is not a reaction worker key ({{provider}}/{{index}}[/{LaneMark}{{lane}}]).");
        }

        return new ReactionWorkerKey(key[..last], lane, index);
    }
}
