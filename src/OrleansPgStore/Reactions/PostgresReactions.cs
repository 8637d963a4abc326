using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using OrleansPgStore.Options;
using OrleansPgStore.Store;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.Reactions;

namespace OrleansPgStore.Reactions;

/// <summary>
/// The reactions and projections of one <c>AddPostgresJournal</c> registration on this silo. Resolve it as a keyed
/// service by the provider's name to rebuild projections.
/// </summary>
/// <remarks>
/// Internally it is also what the registration's worker grains on this silo share: the reactions, the
/// registration's <see cref="PgStore"/>, and one LISTEN connection whose notifications wake them (commits made on
/// this silo wake them directly).
/// </remarks>
public sealed class PostgresReactions : IAsyncDisposable
{
    private readonly PgStore _store;
    private readonly Lazy<ReactionRegistry> _registry;
    private readonly ConcurrentDictionary<ReactionWorker, string> _local = new();
    private readonly ConcurrentDictionary<string, ReactionOptions> _loopByLane = new(StringComparer.Ordinal);
    private CommitListener? _listener;
    private int _noReminderServiceNoticed;

    internal PostgresReactions(string name, PgStore store, PostgresReactionOptions options, IServiceProvider services)
    {
        Name = name;
        _store = store;
        Options = options;
        _registry = new Lazy<ReactionRegistry>(() => options.Build(services));
        // Workers of different registrations must not share a correlation checkpoint: default to the provider name.
        // A copy, as the options instance belongs to the options system (and to every reader of it).
        Worker = options.Worker.Name == ReactionOptions.DefaultName ? options.Worker.WithName(name) : options.Worker;
    }

    /// <summary>
    /// Rebuilds the projections: in one transaction, resets the selected targets to replay from the start and runs the
    /// reset hook of every projection in the selected lane (of every projection when <paramref name="targets"/> names no
    /// lane); then replays on this silo, claiming from that lane (the lane's workers help), until every unblocked target
    /// has caught up, reporting events done and total.
    /// </summary>
    /// <remarks>
    /// Every reaction of the registration replays its reset targets, at-least-once handlers included; give a projection
    /// a lane of its own and select it with <paramref name="targets"/> (<c>new SubscriptionFilter { Lane = "…" }</c>) to
    /// rebuild it alone.
    /// </remarks>
    /// <param name="targets">The targets to reset. Defaults to every target in the default lane.</param>
    /// <param name="progress">Receives the progress after the reset and after each cycle of the replay.</param>
    /// <param name="cancellationToken">Stops waiting for the replay (the workers finish it).</param>
    public Task<RebuildProgress> RebuildAsync(
        SubscriptionFilter? targets = null, IProgress<RebuildProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        targets ??= new SubscriptionFilter { Lane = "" };
        return _store.RebuildAsync(_registry.Value, targets, progress, LoopFor(targets.Lane ?? ""), cancellationToken);
    }

    /// <summary>The registration's name (its provider name).</summary>
    internal string Name { get; }

    /// <summary>The registration's reaction settings.</summary>
    internal PostgresReactionOptions Options { get; }

    /// <summary>The loop settings the workers run with: <see cref="PostgresReactionOptions.Worker"/>, named (each lane's workers claim from their own lane).</summary>
    internal ReactionOptions Worker { get; }

    internal LeaseStore Leases => _store.Leases;

    /// <summary>How the lease holders of a silo's workers begin: <c>{silo}/</c>.</summary>
    internal static string HolderPrefix(string silo) => silo + "/";

    /// <summary>Whether this silo's LISTEN connection is up; <c>null</c> when the silo does not listen.</summary>
    internal bool? ListenerConnected => _listener?.IsConnected;

    /// <summary>The lease holders of the workers active on this silo.</summary>
    internal IReadOnlyList<string> LocalHolders => _local.Keys.Select(w => w.Holder).ToList();

    /// <summary>The grain keys of the workers active on this silo.</summary>
    internal IReadOnlyCollection<string> LocalWorkers => _local.Values.ToHashSet(StringComparer.Ordinal);

    /// <summary>True for the first worker on this silo to find no reminder service, so the silo says so once.</summary>
    internal bool FirstToNoticeNoReminderService() => Interlocked.Exchange(ref _noReminderServiceNoticed, 1) == 0;

    /// <summary>
    /// Starts the engine's worker for the worker grain <paramref name="key"/> activated on this silo, named
    /// <paramref name="holder"/> in its leases, and lets this silo's wake-ups reach it.
    /// </summary>
    internal async Task<ReactionWorker> StartWorkerAsync(ReactionWorkerKey key, string holder, CancellationToken cancellationToken)
    {
        var worker = _store.CreateReactionWorker(_registry.Value, LoopFor(key.Lane), listen: false, holder);
        await worker.StartAsync(cancellationToken).ConfigureAwait(false);
        _local[worker] = key.ToString();
        return worker;
    }

    /// <summary>Stops a worker started by <see cref="StartWorkerAsync"/> (it hands back the leases it holds).</summary>
    internal async Task StopWorkerAsync(ReactionWorker worker)
    {
        _local.TryRemove(worker, out _);
        await worker.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Starts the silo's LISTEN connection (when notifications are on). Idempotent.</summary>
    internal async Task StartListeningAsync(CancellationToken cancellationToken)
    {
        if (_listener is not null || !Options.NotifyOnCommit)
        {
            return;
        }

        _listener = _store.Journal.CreateCommitListener(_ => WakeAll());
        await _listener.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Wakes every worker active on this silo (e.g. after leases were released).</summary>
    internal void WakeAll()
    {
        foreach (var worker in _local.Keys)
        {
            worker.Wake();
        }
    }

    /// <summary>Closes the LISTEN connection. Idempotent (the silo's stop and the container both call it).</summary>
    internal async ValueTask StopListeningAsync()
    {
        if (_listener is not null)
        {
            await _listener.DisposeAsync().ConfigureAwait(false);
        }
    }

    ValueTask IAsyncDisposable.DisposeAsync() => StopListeningAsync();

    /// <summary>The loop settings of <paramref name="lane"/>'s workers: every lane shares the group's name, so one correlation checkpoint raises the work of all lanes.</summary>
    private ReactionOptions LoopFor(string lane)
        => _loopByLane.GetOrAdd(lane, static (lane, loop) => lane == loop.Lane ? loop : loop.WithLane(lane), Worker);
}
