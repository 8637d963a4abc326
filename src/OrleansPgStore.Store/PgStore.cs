using Microsoft.Extensions.Logging;
using Npgsql;
using OrleansPgStore.Store.Admin;
using OrleansPgStore.Store.Clustering;
using OrleansPgStore.Store.Connection;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.Reactions;
using OrleansPgStore.Store.Reminders;
using OrleansPgStore.Store.State;

namespace OrleansPgStore.Store;

/// <summary>
/// The engine's front door: one object per database and schema, built once by a <see cref="PgStoreBuilder"/>, that
/// owns the connection pools and hands out the journal, the durable state and the reaction workers over them.
/// </summary>
/// <remarks>
/// Thread-safe; build one and share it, as an <see cref="NpgsqlDataSource"/>. Building does no I/O;
/// <see cref="SeedAsync"/> creates the tables. Disposing it disposes the pools it built (never a data source given
/// to the builder).
/// </remarks>
/// <example><code>
/// await using var store = PgStore.Create(connectionString, o => o.Schema = "bank");
/// await store.SeedAsync();
/// await store.Journal.CommitAsync("account/42", [EventData.From("Deposited", new { amount = 10 })]);
/// </code></example>
public sealed class PgStore : IAsyncDisposable, IDisposable
{
    private readonly bool _ownsDataSource;
    private readonly NpgsqlDataSource? _warmDataSource;
    private readonly ILoggerFactory _loggerFactory;
    private int _disposed;

    internal PgStore(
        string? connectionString, NpgsqlDataSource? dataSource, PgStoreOptions options, bool warmUpConnections, ILoggerFactory loggerFactory)
    {
        Options = options;
        _loggerFactory = loggerFactory;
        _ownsDataSource = dataSource is null;
        // Every connection the pool opens gets the warm reads prepared before anyone uses it, so a read costs the same
        // on a pool that a burst of writers has widened as on a fresh one. Only our own data source: one given to the
        // builder is left as it is.
        var main = new WarmUp();
        DataSource = dataSource ?? StoreDataSource.Create(connectionString!, loggerFactory, warmUpConnections ? main.PrepareAsync : null);
        try
        {
            Journal = NewJournal(DataSource, options.NotifyOnCommit);
            States = NewStates(DataSource);
            main.Stores = (Journal, States);
            Reads = new WarmReads(Journal, States);
            if (_ownsDataSource && options.WarmReadConnections > 0)
            {
                var own = new WarmUp();
                var pool = WarmReads.PoolFor(connectionString!, options.WarmReadConnections);
                _warmDataSource = StoreDataSource.Create(pool.ConnectionString, loggerFactory, own.PrepareAsync);
                own.Stores = (NewJournal(_warmDataSource, notify: false), NewStates(_warmDataSource));
                Reads = new WarmReads(Journal, States, own.Stores.Value.Journal, own.Stores.Value.States, pool.MaxPoolSize);
            }

            Leases = new LeaseStore(
                new LeaseStoreOptions
                {
                    DataSource = DataSource,
                    Schema = options.Schema,
                    Table = options.SubscriptionsTable,
                    CommandTimeout = options.CommandTimeout,
                    SynchronousCommit = options.SynchronousLeaseWrites,
                },
                loggerFactory);
            Admin = new StoreAdmin(
                new StoreAdminOptions
                {
                    DataSource = DataSource,
                    Schema = options.Schema,
                    Table = options.EventsTable,
                    StateTable = options.StateTable,
                    SubscriptionsTable = options.SubscriptionsTable,
                    CommandTimeout = options.CommandTimeout,
                },
                loggerFactory);
        }
        catch
        {
            _warmDataSource?.Dispose();
            if (_ownsDataSource)
            {
                DataSource.Dispose();
            }

            throw;
        }
    }

    /// <summary>A store for <paramref name="connectionString"/>: short for <see cref="PgStoreBuilder"/>'s <c>Configure</c> and <c>Build</c>.</summary>
    /// <exception cref="ArgumentException">A setting is wrong; the message names every one.</exception>
    public static PgStore Create(string connectionString, Action<PgStoreOptions>? configure = null)
        => new PgStoreBuilder(connectionString).Configure(configure ?? (static _ => { })).Build();

    /// <summary>The main pool every store uses.</summary>
    public NpgsqlDataSource DataSource { get; }

    /// <summary>The event journal (<see cref="PgStoreOptions.EventsTable"/>).</summary>
    public JournalStore Journal { get; }

    /// <summary>The durable state (<see cref="PgStoreOptions.StateTable"/>).</summary>
    public DurableStateStore States { get; }

    /// <summary>The settings the store was built with.</summary>
    internal PgStoreOptions Options { get; }

    /// <summary>The reaction workers' subscriptions and leases, where retention also takes its turns.</summary>
    internal LeaseStore Leases { get; }

    /// <summary>Inspection of the tables, reaction lag and blocked targets (operators, health checks, metrics).</summary>
    internal StoreAdmin Admin { get; }

    /// <summary>Where the reads a caller waits on (a stream replay, a state load) go: the warm pool when it has room.</summary>
    internal WarmReads Reads { get; }

    internal ILoggerFactory LoggerFactory => _loggerFactory;

    /// <summary>
    /// Creates the schema (if missing) and the tables with their indexes: events (and its positions table), durable state,
    /// subscriptions (and its checkpoints table). Idempotent and safe to call from many processes at once.
    /// </summary>
    public Task SeedAsync(CancellationToken cancellationToken = default) => SeedTablesAsync(StoreTables.All, cancellationToken);

    /// <summary>
    /// The SQL <see cref="SeedAsync"/> applies, for DBAs who create schemas by hand: the schema (if missing) and the
    /// tables named in the settings <paramref name="configure"/> makes. The role the store then runs as needs USAGE on
    /// the schema; SELECT, INSERT, UPDATE and DELETE on the events, durable-state and subscriptions tables and the
    /// subscriptions' checkpoints table, <c>&lt;subscriptions table&gt;_checkpoints</c>; and SELECT on the events table's
    /// positions table, <c>&lt;events table&gt;_positions</c> (rebasing positions after a restore needs UPDATE on it).
    /// </summary>
    /// <exception cref="ArgumentException">A setting is wrong; the message names every one.</exception>
    public static string SchemaSql(Action<PgStoreOptions>? configure = null)
    {
        var options = new PgStoreOptions();
        configure?.Invoke(options);
        var failures = PgStoreBuilder.Check(options);
        if (failures.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", failures), nameof(configure));
        }

        return JournalStore.SchemaSql(options.Schema, options.EventsTable)
            + DurableStateStore.SchemaSql(options.Schema, options.StateTable)
            + LeaseStore.SchemaSql(options.Schema, options.SubscriptionsTable);
    }

    /// <summary>Creates the schema (if missing) and the given tables.</summary>
    internal async Task SeedTablesAsync(StoreTables tables, CancellationToken cancellationToken)
    {
        if (tables.HasFlag(StoreTables.Events))
        {
            await Journal.SeedAsync(cancellationToken).ConfigureAwait(false);
        }

        if (tables.HasFlag(StoreTables.States))
        {
            await States.SeedAsync(cancellationToken).ConfigureAwait(false);
        }

        if (tables.HasFlag(StoreTables.Subscriptions))
        {
            await Leases.SeedAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A worker that runs <paramref name="registry"/>'s reactions in the background once started: claims targets with
    /// new events, hands them to the handlers, and acks them under their leases. Start as many as you like, in as many
    /// processes: they share the work.
    /// </summary>
    /// <param name="registry">The reactions and projections to run.</param>
    /// <param name="options">The loop's settings; defaults when <c>null</c>.</param>
    /// <param name="listen">Also wake on other processes' commits (they must commit with <see cref="PgStoreOptions.NotifyOnCommit"/>).</param>
    /// <param name="holder">The worker's name in the leases it holds (what operators see); unique by default. Give every
    /// worker its own: two workers with one name would pass for each other.</param>
    public ReactionWorker CreateReactionWorker(ReactionRegistry registry, ReactionOptions? options = null, bool listen = false, string? holder = null)
        => new(new ReactionLoop(Journal, Leases, registry, options, _loggerFactory, holder), Journal, listen, _loggerFactory);

    /// <summary>The membership tables of Orleans clustering (<paramref name="table"/>, <paramref name="versionTable"/>) on this store's pool and schema.</summary>
    internal MembershipStore CreateMembershipStore(string table, string versionTable)
        => new(
            new MembershipStoreOptions
            {
                DataSource = DataSource,
                Schema = Options.Schema,
                Table = table,
                VersionTable = versionTable,
                CommandTimeout = Options.CommandTimeout,
            },
            _loggerFactory);

    /// <summary>The reminders table of Orleans' reminder service (<paramref name="table"/>) on this store's pool and schema.</summary>
    internal ReminderStore CreateReminderStore(string table)
        => new(
            new ReminderStoreOptions { DataSource = DataSource, Schema = Options.Schema, Table = table, CommandTimeout = Options.CommandTimeout },
            _loggerFactory);

    /// <summary>
    /// Rebuilds projections: resets the selected targets to replay from the start and runs the reset hook of every
    /// projection in the selected lane, in one transaction; then replays on this thread until every unblocked target
    /// has caught up (running workers help), reporting events done and total.
    /// </summary>
    /// <param name="registry">The reactions whose targets replay.</param>
    /// <param name="targets">The targets to reset. Defaults to every target in the default lane.</param>
    /// <param name="progress">Receives the progress after the reset and after each cycle of the replay.</param>
    /// <param name="options">The loop's settings; defaults when <c>null</c>.</param>
    /// <param name="cancellationToken">Stops waiting for the replay.</param>
    public Task<RebuildProgress> RebuildAsync(
        ReactionRegistry registry,
        SubscriptionFilter? targets = null,
        IProgress<RebuildProgress>? progress = null,
        ReactionOptions? options = null,
        CancellationToken cancellationToken = default)
        => new ReactionLoop(Journal, Leases, registry, options, _loggerFactory).RebuildAsync(targets, progress, cancellationToken);

    /// <summary>Disposes the pools the store built (a data source given to the builder stays open).</summary>
    public async ValueTask DisposeAsync()
    {
        // The container may hand this instance out under several keys and dispose it once per key.
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            if (_warmDataSource is not null)
            {
                await _warmDataSource.DisposeAsync().ConfigureAwait(false);
            }

            if (_ownsDataSource)
            {
                await DataSource.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Disposes the pools the store built (a data source given to the builder stays open).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _warmDataSource?.Dispose();
            if (_ownsDataSource)
            {
                DataSource.Dispose();
            }
        }
    }

    private JournalStore NewJournal(NpgsqlDataSource dataSource, bool notify)
        => new(
            new JournalStoreOptions
            {
                DataSource = dataSource,
                Schema = Options.Schema,
                Table = Options.EventsTable,
                CommandTimeout = Options.CommandTimeout,
                PageSize = Options.PageSize,
                FeedSettleTimeout = Options.FeedSettleTimeout,
                NotifyOnCommit = notify,
            },
            _loggerFactory);

    private DurableStateStore NewStates(NpgsqlDataSource dataSource)
        => new(
            new DurableStateStoreOptions
            {
                DataSource = dataSource,
                Schema = Options.Schema,
                Table = Options.StateTable,
                CommandTimeout = Options.CommandTimeout,
            },
            _loggerFactory);

    /// <summary>The stores over one data source, which prepares their warm reads on every connection it opens.</summary>
    private sealed class WarmUp
    {
        public (JournalStore Journal, DurableStateStore States)? Stores { get; set; }

        /// <summary>The data source's physical connection initializer (the stores exist by the time it first runs).</summary>
        public async Task PrepareAsync(NpgsqlConnection connection)
        {
            if (Stores is { } stores)
            {
                await stores.Journal.PrepareConnectionAsync(connection).ConfigureAwait(false);
                await stores.States.PrepareConnectionAsync(connection).ConfigureAwait(false);
            }
        }
    }
}
