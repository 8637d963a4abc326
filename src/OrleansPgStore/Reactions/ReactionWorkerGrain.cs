using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Runtime.Placement;
using Orleans.Timers;
using OrleansPgStore.Options;
using OrleansPgStore.Store.Reactions;

namespace OrleansPgStore.Reactions;

/// <summary>
/// Hosts one engine <see cref="ReactionWorker"/> for as long as the activation lives: the worker claims target
/// streams, runs the handlers and acks, competing with the workers on other silos through leases in PostgreSQL.
/// A worker that dies loses only its leases: released as soon as its silo is declared dead, or else when they expire.
/// </summary>
/// <remarks>
/// Placed by Orleans with <see cref="ReactionWorkerPlacement"/> (N workers spread evenly over the silos that run
/// the reactions), kept alive while its silo runs, and revived after a silo fails by the supervisors' next check or
/// by its reminder, wherever placement then puts it. Its leases carry its silo's address
/// (<c>{silo}/{worker key}/{activation}</c>, see <see cref="ReactionWorkerKey"/>), so they can be released when that
/// silo is declared dead; the activation part keeps a later activation of the same worker from passing for an
/// earlier one whose cycle may still be finishing.
/// </remarks>
[KeepAlive]
[ReactionWorkerPlacement]
internal sealed partial class ReactionWorkerGrain : Grain, IReactionWorkerGrain, IRemindable
{
    private const string ReminderName = "orleanspgstore.reaction-worker";

    private readonly IServiceProvider _services;
    private readonly ILogger<ReactionWorkerGrain> _logger;
    private readonly ReactionWorkerPlacementDirector _placement;
    private readonly SiloAddress _here;
    private readonly string _silo;
    private PostgresReactions? _reactions;
    private ReactionWorker? _worker;
    private bool _reminderRegistered;

    public ReactionWorkerGrain(
        IServiceProvider services, ReactionWorkerPlacementDirector placement, ILocalSiloDetails silo, ILogger<ReactionWorkerGrain> logger)
    {
        _services = services;
        _logger = logger;
        _placement = placement;
        _here = silo.SiloAddress;
        _silo = silo.SiloAddress.ToParsableString();
    }

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var key = this.GetPrimaryKeyString();
        var worker = ReactionWorkerKey.Parse(key);
        _reactions = _services.GetRequiredKeyedService<PostgresReactions>(worker.Provider);
        LogActivating(_logger, key, _silo);
        _worker = await _reactions.StartWorkerAsync(
            worker, $"{PostgresReactions.HolderPrefix(_silo)}{key}/{Guid.NewGuid().ToString("N")[..8]}", cancellationToken).ConfigureAwait(true);
        LogStarted(_logger, key, _silo);
    }

    public async Task EnsureStartedAsync()
    {
        // Every silo calls this at start and then periodically: register the reminder once per activation.
        if (_reminderRegistered)
        {
            return;
        }

        _reminderRegistered = true;
        if (_services.GetService<IReminderRegistry>() is null)
        {
            // Not an error: the workers run and the silos' checks revive them. Said once per silo, not per worker.
            if (_reactions!.FirstToNoticeNoReminderService())
            {
                LogNoReminderService(_logger);
            }

            return;
        }

        var period = _reactions!.Options.ReminderPeriod;
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

    public Task<bool> MoveToItsSiloAsync(SiloAddress destination)
    {
        // Orleans 10's MigrateOnIdle deactivates first and asks placement after: when placement then names this silo
        // the worker is only restarted, not moved. So move only when this silo's placement names another silo, and
        // only the one the caller asked for (a caller whose view differs asks again once the views agree).
        var key = ReactionWorkerKey.Parse(this.GetPrimaryKeyString());
        var silos = _placement.Silos(key.Provider, this.GetGrainId().Type);
        var target = silos.Count == 0 ? _here : _placement.SiloFor(key, silos);
        if (target.Equals(_here) || !target.Equals(destination))
        {
            LogMoveRefused(_logger, key.ToString(), _silo, destination, target);
            return Task.FromResult(false);
        }

        // The destination rides along as the placement hint the director keeps (the directory entry moves with it);
        // the worker stops here (handing back its leases) and starts there.
        RequestContext.Set(IPlacementDirector.PlacementHintKey, target);
        MigrateOnIdle();
        return Task.FromResult(true);
    }

    public Task<long> GetBusyCyclesAsync() => Task.FromResult(_worker?.BusyCycles ?? 0);

    public Task ReceiveReminder(string reminderName, TickStatus status) => Task.CompletedTask;

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        LogDeactivating(_logger, this.GetPrimaryKeyString(), _silo, reason.ToString());
        if (_worker is not null)
        {
            await _reactions!.StopWorkerAsync(_worker).ConfigureAwait(true);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Reaction worker {Worker} activating on {Silo}")]
    private static partial void LogActivating(ILogger logger, string worker, string silo);

    [LoggerMessage(Level = LogLevel.Debug,
        Message = "Reaction worker {Worker} on {Silo} stays: asked to move to {Destination}, this silo's placement names {Target}")]
    private static partial void LogMoveRefused(ILogger logger, string worker, string silo, SiloAddress destination, SiloAddress target);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Reaction worker {Worker} on {Silo} deactivating: {Reason}")]
    private static partial void LogDeactivating(ILogger logger, string worker, string silo, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Reaction worker {Worker} started on {Silo}")]
    private static partial void LogStarted(ILogger logger, string worker, string silo);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "No reminder service is registered: reaction workers run and the silos' checks revive them, but a worker is not revived by a reminder. " +
                  "Register one: UsePostgresReminderService() (or UseOrleansPgStore(...) for the whole app on PostgreSQL)")]
    private static partial void LogNoReminderService(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Reaction worker {Worker} could not register its reminder; it will not be revived by a reminder after a silo failure")]
    private static partial void LogNoReminder(ILogger logger, Exception exception, string worker);
}

/// <summary>
/// A reaction worker: while active it runs the lease-claim loop of one lane of one <c>AddPostgresJournal</c>
/// registration. Keyed <c>{provider name}/{index}</c> in the default lane, <c>{provider name}/{index}/lane:{lane}</c>
/// (the lane URI-escaped) in another. Orleans places it (<see cref="ReactionWorkerPlacement"/>); every silo that runs
/// the reactions makes sure all of them are started.
/// </summary>
[Alias("OrleansPgStore.Reactions.IReactionWorkerGrain")]
internal interface IReactionWorkerGrain : IGrainWithStringKey
{
    /// <summary>Activates the worker (which starts its loop) and registers the reminder that revives it. Idempotent.</summary>
    [Alias("EnsureStarted")]
    Task EnsureStartedAsync();

    /// <summary>
    /// Moves the worker to <paramref name="destination"/> when its silo's placement names that silo for it now; no
    /// move (nor restart) when placement names the silo it is on, or another silo than the caller's. True when it moves.
    /// </summary>
    [Alias("MoveToItsSilo")]
    Task<bool> MoveToItsSiloAsync(SiloAddress destination);

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

    /// <summary>
    /// Every worker of registration <paramref name="provider"/>, numbered one after the other: each lane with a reaction
    /// (in ordinal order, the same on every silo) has <see cref="PostgresReactionOptions.Workers"/> of them.
    /// </summary>
    public static List<ReactionWorkerKey> All(string provider, PostgresReactionOptions options)
        => options.Lanes.SelectMany(lane => Enumerable.Range(0, options.Workers).Select(i => new ReactionWorkerKey(provider, lane, i))).ToList();

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
