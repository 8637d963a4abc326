using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using OrleansPgStore.Options;
using OrleansPgStore.Store;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.Reactions;

namespace OrleansPgStore.Reactions;

/// <summary>
/// What the reaction workers of one <c>AddPostgresJournal</c> registration share on a silo: the reactions, the
/// stores, and one LISTEN connection whose notifications wake the workers active on this silo (commits made on
/// this silo wake them directly).
/// </summary>
internal sealed class PostgresReactionRuntime : IAsyncDisposable
{
    private readonly PgStore _services;
    private readonly PostgresReactionOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly Lazy<ReactionRegistry> _registry;
    private readonly ConcurrentDictionary<ReactionWorker, bool> _local = new();
    private readonly ReactionOptions _loop;
    private readonly ConcurrentDictionary<string, ReactionOptions> _loopByLane = new(StringComparer.Ordinal);
    private CommitListener? _listener;
    private int _noReminderServiceNoticed;

    public PostgresReactionRuntime(
        string name, PgStore services, PostgresReactionOptions options, IServiceProvider serviceProvider, ILoggerFactory loggerFactory)
    {
        Name = name;
        _services = services;
        _options = options;
        _loggerFactory = loggerFactory;
        _registry = new Lazy<ReactionRegistry>(() => options.Build(serviceProvider));
        // Workers of different registrations must not share a correlation checkpoint: default to the provider name.
        // A copy, as the options instance belongs to the options system (and to every reader of it).
        _loop = options.Loop.Name == ReactionOptions.DefaultName ? options.Loop.WithName(name) : options.Loop;
    }

    /// <summary>The loop settings the workers run with: <see cref="PostgresReactionOptions.Loop"/>, named (each lane's workers claim from their own lane).</summary>
    public ReactionOptions Loop => _loop;

    public string Name { get; }

    public LeaseStore Leases => _services.Leases;

    /// <summary>How the lease holders of a silo's workers begin: <c>{silo}/</c>.</summary>
    public static string HolderPrefix(string silo) => silo + "/";

    public PostgresReactionOptions Options => _options;

    /// <summary>True for the first worker on this silo to find no reminder service, so the silo says so once.</summary>
    public bool FirstToNoticeNoReminderService() => Interlocked.Exchange(ref _noReminderServiceNoticed, 1) == 0;

    /// <summary>Whether this silo's LISTEN connection is up; <c>null</c> when the silo does not listen.</summary>
    public bool? ListenerConnected => _listener?.IsConnected;

    /// <summary>A worker for one grain activation claiming from <paramref name="lane"/>, identified as <paramref name="holder"/> in its leases.</summary>
    public ReactionWorker CreateWorker(string holder, string lane)
        => _services.CreateReactionWorker(_registry.Value, LoopFor(lane), listen: false, holder);

    /// <summary>A loop of its own claiming from <paramref name="lane"/>, identified as <paramref name="holder"/>, e.g. to drive a rebuild.</summary>
    public ReactionLoop CreateLoop(string holder, string lane)
        => new(_services.Journal, _services.Leases, _registry.Value, LoopFor(lane), _loggerFactory, holder);

    /// <summary>The loop settings of <paramref name="lane"/>'s loops: every lane shares the group's name, so one correlation checkpoint raises the work of all lanes.</summary>
    private ReactionOptions LoopFor(string lane)
        => _loopByLane.GetOrAdd(lane, static (lane, loop) => lane == loop.Lane ? loop : loop.WithLane(lane), _loop);

    /// <summary>The lease holders of the workers active on this silo.</summary>
    public IReadOnlyList<string> LocalHolders => _local.Keys.Select(w => w.Holder).ToList();

    public void Attach(ReactionWorker worker) => _local[worker] = true;

    public void Detach(ReactionWorker worker) => _local.TryRemove(worker, out _);

    /// <summary>Starts the silo's LISTEN connection (when notifications are on). Idempotent.</summary>
    public async Task StartListeningAsync(CancellationToken cancellationToken)
    {
        if (_listener is not null || !_options.NotifyOnCommit)
        {
            return;
        }

        _listener = _services.Journal.CreateCommitListener(_ => WakeAll());
        await _listener.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Closes the LISTEN connection. Idempotent (the silo's stop and the container both call it).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_listener is not null)
        {
            await _listener.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Wakes every worker active on this silo (e.g. after leases were released).</summary>
    public void WakeAll()
    {
        foreach (var worker in _local.Keys)
        {
            worker.Wake();
        }
    }
}
