using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Reactions;

namespace OrleansPgStore.Options;

/// <summary>
/// Reactions and projections run by <c>AddPostgresJournal</c>: handlers over the event feed, run by reaction
/// worker grains that compete for target streams through leases in PostgreSQL. Workers start only when at least
/// one reaction is registered.
/// </summary>
/// <remarks>
/// Delivery is at least once per target, in order within a target, with nothing skipped: make handler effects
/// idempotent (e.g. keyed by <see cref="RecordedEvent.Position"/>), or write a read model with
/// <see cref="Project"/>, whose effects commit with the progress (exactly once). Orleans places the workers evenly over
/// the silos that run the reactions; every such silo makes sure all of them run when it joins, when a silo joins or
/// leaves, and every <see cref="WorkerCheckInterval"/>, so the survivors take over a failed silo's workers with or
/// without a reminder service; a reminder service, when configured, revives them too.
/// </remarks>
public sealed class PostgresReactionOptions
{
    private readonly List<Action<ReactionRegistry, IServiceProvider>> _registrations = [];
    private readonly SortedSet<string> _lanes = new(StringComparer.Ordinal);

    /// <summary>
    /// How many worker grains share the work of each lane that has a reaction, spread over the silos (the lanes' workers
    /// together). Defaults to 2.
    /// </summary>
    public int Workers { get; set; } = 2;

    /// <summary>The subscriptions table (one row per target stream). Defaults to <c>subscriptions</c>.</summary>
    public string SubscriptionsTable { get; set; } = "subscriptions";

    /// <summary>
    /// Commits send a PostgreSQL NOTIFY so that workers on every silo wake within milliseconds; polling finds every
    /// commit either way. Defaults to true (when reactions are registered).
    /// </summary>
    public bool NotifyOnCommit { get; set; } = true;

    /// <summary>
    /// Whether the workers' lease writes wait for their WAL flush. Defaults to false: a crash may forget the last
    /// moments of lease state, which only means some events are handled again (at least once); see
    /// <c>LeaseStoreOptions.SynchronousCommit</c>.
    /// </summary>
    public bool SynchronousLeaseWrites { get; set; }

    /// <summary>How often the reminder that revives worker grains ticks (at least Orleans' minimum, 1 minute by default). Defaults to 1 minute.</summary>
    public TimeSpan ReminderPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How often each silo makes sure all <see cref="Workers"/> are running, re-creating those lost with a failed
    /// silo (reminders do the same, more slowly, when a reminder service is configured), and that it runs a balanced
    /// share of them. Silos also check at once whenever the set of active silos changes. <see cref="Timeout.InfiniteTimeSpan"/> checks only at start, leaving
    /// lost workers to their reminders. Defaults to 10 seconds.
    /// </summary>
    public TimeSpan WorkerCheckInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How often each silo measures reaction lag and blocked targets for the <c>orleanspgstore.reactions.*</c> gauges
    /// (only while something listens to them). Defaults to 30 seconds.
    /// </summary>
    public TimeSpan LagSampleInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The settings of each worker: claim size, lease duration, page size, retries, backoff, poll interval. Its <c>Lane</c> is not
    /// used here: each lane that has a reaction gets workers of its own (a lane named there must have a reaction).
    /// </summary>
    public ReactionOptions Worker { get; set; } = new();

    /// <summary>True when at least one reaction is registered.</summary>
    internal bool HasReactions => _registrations.Count > 0;

    /// <summary>The lanes some reaction registers its targets in, in ordinal order (the same on every silo).</summary>
    internal IReadOnlyCollection<string> Lanes => _lanes;

    /// <summary>Handles each event named <paramref name="eventName"/>, in order within its target.</summary>
    /// <param name="eventName">The event name as stored (for JournaledGrain events: the type name rule of the journal).</param>
    /// <param name="handler">The handler; it gets the silo's services (e.g. <c>IGrainFactory</c> to call grains).</param>
    /// <param name="target">Maps an event to its target; defaults to the event's own stream.</param>
    /// <param name="priority">Priority of the targets this reaction registers. Defaults to 0.</param>
    /// <param name="lane">Lane of the targets this reaction registers. Defaults to the default lane.</param>
    public PostgresReactionOptions On(
        string eventName,
        Func<RecordedEvent, IServiceProvider, CancellationToken, Task> handler,
        Func<RecordedEvent, ReactionTarget?>? target = null,
        int priority = 0,
        string lane = "")
    {
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        ArgumentNullException.ThrowIfNull(handler);
        AddLane(lane);
        _registrations.Add((registry, services) => registry.On(eventName, (e, ct) => handler(e, services, ct), target, priority, lane));
        return this;
    }

    /// <summary>Handles the events named in <paramref name="eventNames"/> a page at a time per target (projections).</summary>
    public PostgresReactionOptions OnBatch(
        IReadOnlyCollection<string> eventNames,
        Func<ReactionBatch, IServiceProvider, CancellationToken, Task> handler,
        Func<RecordedEvent, ReactionTarget?>? target = null,
        int priority = 0,
        string lane = "")
    {
        ArgumentNullException.ThrowIfNull(eventNames);
        ArgumentNullException.ThrowIfNull(handler);
        AddLane(lane);
        _registrations.Add((registry, services) => registry.OnBatch(eventNames, (batch, ct) => handler(batch, services, ct), target, priority, lane));
        return this;
    }

    /// <summary>
    /// A projection, exactly once in effect for a read model in the same database: <paramref name="apply"/> gets the new
    /// events of every target a worker claimed in a cycle together with the worker's open transaction, and its writes
    /// commit in that transaction with the targets' watermarks (one commit per cycle). A worker that lost a lease
    /// commits nothing; a crash or a lost connection before the commit leaves neither writes nor progress.
    /// </summary>
    /// <param name="eventNames">The event names as stored.</param>
    /// <param name="apply">
    /// Writes the batch through <see cref="ProjectionTransaction.CreateCommand"/>; gets the silo's services. It may run
    /// again for the same events after a failure (its earlier writes were rolled back), so effects outside the
    /// transaction (calls to grains, other systems) are still at least once.
    /// </param>
    /// <param name="reset">Clears the read model in the transaction of a rebuild's reset (see <see cref="Reactions.PostgresReactions.RebuildAsync"/>).</param>
    /// <param name="target">Maps an event to its target; defaults to the event's own stream.</param>
    /// <param name="priority">Priority of the targets this projection registers. Defaults to 0.</param>
    /// <param name="lane">Lane of the targets this projection registers. Defaults to the default lane.</param>
    public PostgresReactionOptions Project(
        IReadOnlyCollection<string> eventNames,
        Func<ProjectionBatch, IServiceProvider, CancellationToken, Task> apply,
        Func<ProjectionTransaction, IServiceProvider, CancellationToken, Task>? reset = null,
        Func<RecordedEvent, ReactionTarget?>? target = null,
        int priority = 0,
        string lane = "")
    {
        ArgumentNullException.ThrowIfNull(eventNames);
        ArgumentNullException.ThrowIfNull(apply);
        AddLane(lane);
        _registrations.Add((registry, services) => registry.Project(
            eventNames,
            (batch, ct) => apply(batch, services, ct),
            reset is null ? null : (transaction, ct) => reset(transaction, services, ct),
            target,
            priority,
            lane));
        return this;
    }

    /// <summary>
    /// A projection written one event at a time, exactly once in effect like <see cref="Project"/>:
    /// <paramref name="apply"/> runs for each new event (in order within its target) in the worker's open transaction,
    /// which commits once per cycle with the targets' watermarks. The shape of a plain per-event handler, without a
    /// commit per event or idempotency to build.
    /// </summary>
    /// <param name="eventNames">The event names as stored.</param>
    /// <param name="apply">
    /// Queues one event's writes with <see cref="ProjectionTransaction.Queue"/> (sent in one batch per cycle, no round trip
    /// per event); gets the silo's services. A statement run at once through <see cref="ProjectionTransaction.CreateCommand"/>
    /// needs <see cref="ProjectionTransaction.FlushAsync"/> first while statements are queued.
    /// </param>
    /// <param name="reset">Clears the read model in the transaction of a rebuild's reset.</param>
    /// <param name="target">Maps an event to its target; defaults to the event's own stream.</param>
    /// <param name="priority">Priority of the targets this projection registers. Defaults to 0.</param>
    /// <param name="lane">Lane of the targets this projection registers. Defaults to the default lane.</param>
    public PostgresReactionOptions ProjectEach(
        IReadOnlyCollection<string> eventNames,
        Func<RecordedEvent, ProjectionTransaction, IServiceProvider, CancellationToken, Task> apply,
        Func<ProjectionTransaction, IServiceProvider, CancellationToken, Task>? reset = null,
        Func<RecordedEvent, ReactionTarget?>? target = null,
        int priority = 0,
        string lane = "")
    {
        ArgumentNullException.ThrowIfNull(eventNames);
        ArgumentNullException.ThrowIfNull(apply);
        AddLane(lane);
        _registrations.Add((registry, services) => registry.ProjectEach(
            eventNames,
            (e, transaction, ct) => apply(e, transaction, services, ct),
            reset is null ? null : (transaction, ct) => reset(transaction, services, ct),
            target,
            priority,
            lane));
        return this;
    }

    private void AddLane(string lane)
    {
        ArgumentNullException.ThrowIfNull(lane);
        if (lane.Contains('\0'))
        {
            throw new ArgumentException("A lane must not contain NUL characters.", nameof(lane));
        }

        _lanes.Add(lane);
    }

    /// <summary>The engine's registry of these reactions, with handlers bound to <paramref name="services"/>.</summary>
    internal ReactionRegistry Build(IServiceProvider services)
    {
        var registry = new ReactionRegistry();
        foreach (var register in _registrations)
        {
            register(registry, services);
        }

        return registry;
    }
}
