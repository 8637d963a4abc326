using Microsoft.Extensions.Logging;
using Npgsql;
using OrleansPgStore.Options;
using OrleansPgStore.Store.Admin;
using OrleansPgStore.Store.Connection;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.State;

namespace OrleansPgStore.Hosting;

/// <summary>
/// What one <c>AddPostgresJournal</c> call wires, shared by its providers: one data source (one connection pool),
/// the journal (events table) and the durable-state store. Resolve it as a keyed service by the provider's name,
/// e.g. to query events, or to run further components (such as reaction workers) on the same pool.
/// </summary>
public sealed class PostgresJournalServices : IAsyncDisposable, IDisposable
{
    private readonly bool _ownsDataSource;
    private readonly NpgsqlDataSource? _activationDataSource;
    private int _disposed;

    private PostgresJournalServices(
        string name, NpgsqlDataSource dataSource, bool ownsDataSource, JournalStore journal, DurableStateStore states, LeaseStore? leases,
        StoreAdmin admin, ActivationReads activationReads, NpgsqlDataSource? activationDataSource)
    {
        Admin = admin;
        Name = name;
        DataSource = dataSource;
        _ownsDataSource = ownsDataSource;
        Journal = journal;
        States = states;
        Leases = leases;
        ActivationReads = activationReads;
        _activationDataSource = activationDataSource;
    }

    /// <summary>The name the services were registered under.</summary>
    public string Name { get; }

    /// <summary>The data source every store of this registration uses.</summary>
    public NpgsqlDataSource DataSource { get; }

    /// <summary>The journal (events table).</summary>
    public JournalStore Journal { get; }

    /// <summary>The durable-state store (state table).</summary>
    public DurableStateStore States { get; }

    /// <summary>
    /// The subscriptions of the reaction workers, where retention also takes its turns; <c>null</c> when no reaction is
    /// registered and retention is off.
    /// </summary>
    public LeaseStore? Leases { get; }

    /// <summary>Inspection of the tables, reaction lag and blocked targets (health checks and metrics use it).</summary>
    public StoreAdmin Admin { get; }

    /// <summary>Where the providers' activations read (see <see cref="PostgresJournalOptions.ActivationReadConnections"/>).</summary>
    internal ActivationReads ActivationReads { get; }

    /// <summary>Creates the data source (unless the options bring one) and the stores over it.</summary>
    internal static PostgresJournalServices Create(string name, PostgresJournalOptions options, ILoggerFactory loggerFactory)
    {
        var owns = options.DataSource is null;
        // Every connection the pool opens gets the activation reads prepared before anyone uses it, so an activation
        // costs the same on a pool that a burst of writers has widened as on a fresh one. Only our own data source:
        // one the user brings is left as it is.
        var main = new PreparedStores();
        var dataSource = options.DataSource ?? StoreDataSource.Create(options.ConnectionString!, loggerFactory, main.PrepareAsync);
        NpgsqlDataSource? activationDataSource = null;
        try
        {
            main.Journal = NewJournal(options, dataSource, loggerFactory, notify: options.Reactions.HasReactions && options.Reactions.NotifyOnCommit);
            main.States = NewStates(options, dataSource, loggerFactory);
            var activationReads = new ActivationReads(main.Journal, main.States);
            if (owns && options.ActivationReadConnections > 0)
            {
                var own = new PreparedStores();
                var pool = ActivationReads.PoolFor(options.ConnectionString!, options.ActivationReadConnections);
                activationDataSource = StoreDataSource.Create(pool.ConnectionString, loggerFactory, own.PrepareAsync);
                own.Journal = NewJournal(options, activationDataSource, loggerFactory, notify: false);
                own.States = NewStates(options, activationDataSource, loggerFactory);
                activationReads = new ActivationReads(main.Journal, main.States, own.Journal, own.States, pool.MaxPoolSize);
            }

            var journal = main.Journal;
            var states = main.States;
            // Retention takes its turns in the subscriptions table too, so it exists whenever either runs.
            var leases = options.Reactions.HasReactions || options.Retention.KeepFor is not null
                ? new LeaseStore(
                    new LeaseStoreOptions
                    {
                        DataSource = dataSource,
                        Schema = options.Schema,
                        Table = options.Reactions.SubscriptionsTable,
                        CommandTimeout = options.CommandTimeout,
                        SynchronousCommit = options.Reactions.SynchronousLeaseWrites,
                    },
                    loggerFactory)
                : null;
            var admin = new StoreAdmin(
                new StoreAdminOptions
                {
                    DataSource = dataSource,
                    Schema = options.Schema,
                    Table = options.EventsTable,
                    StateTable = options.StateTable,
                    SubscriptionsTable = options.Reactions.SubscriptionsTable,
                    CommandTimeout = options.CommandTimeout,
                },
                loggerFactory);
            return new PostgresJournalServices(name, dataSource, owns, journal, states, leases, admin, activationReads, activationDataSource);
        }
        catch
        {
            activationDataSource?.Dispose();
            if (owns)
            {
                dataSource.Dispose();
            }

            throw;
        }
    }

    private static JournalStore NewJournal(PostgresJournalOptions options, NpgsqlDataSource dataSource, ILoggerFactory loggerFactory, bool notify)
        => new(
            new JournalStoreOptions
            {
                DataSource = dataSource,
                Schema = options.Schema,
                Table = options.EventsTable,
                CommandTimeout = options.CommandTimeout,
                // Wakes the reaction workers on every silo; only worth its cost when there are reactions.
                NotifyOnCommit = notify,
            },
            loggerFactory);

    private static DurableStateStore NewStates(PostgresJournalOptions options, NpgsqlDataSource dataSource, ILoggerFactory loggerFactory)
        => new(
            new DurableStateStoreOptions
            {
                DataSource = dataSource,
                Schema = options.Schema,
                Table = options.StateTable,
                CommandTimeout = options.CommandTimeout,
            },
            loggerFactory);

    /// <summary>The stores over one data source, which prepares their activation reads on every connection it opens.</summary>
    private sealed class PreparedStores
    {
        public JournalStore? Journal { get; set; }

        public DurableStateStore? States { get; set; }

        /// <summary>The data source's physical connection initializer (the stores exist by the time it first runs).</summary>
        public async Task PrepareAsync(NpgsqlConnection connection)
        {
            if (Journal is not null && States is not null)
            {
                await Journal.PrepareConnectionAsync(connection).ConfigureAwait(false);
                await States.PrepareConnectionAsync(connection).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Creates the schema and the tables if missing; idempotent and safe from many silos at once.</summary>
    internal async Task SeedAsync(CancellationToken cancellationToken)
    {
        await Journal.SeedAsync(cancellationToken).ConfigureAwait(false);
        await States.SeedAsync(cancellationToken).ConfigureAwait(false);
        if (Leases is not null)
        {
            await Leases.SeedAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Disposes the data sources created from the connection string.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            if (_activationDataSource is not null)
            {
                await _activationDataSource.DisposeAsync().ConfigureAwait(false);
            }

            if (_ownsDataSource)
            {
                await DataSource.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Disposes the data sources created from the connection string.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _activationDataSource?.Dispose();
            if (_ownsDataSource)
            {
                DataSource.Dispose();
            }
        }
    }
}
