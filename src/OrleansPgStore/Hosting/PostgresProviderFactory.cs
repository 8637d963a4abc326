using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Configuration.Overrides;
using Orleans.EventSourcing;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using OrleansPgStore.EventSourcing;
using OrleansPgStore.Options;
using OrleansPgStore.Serialization;
using OrleansPgStore.Storage;
using OrleansPgStore.Store;

namespace OrleansPgStore.Hosting;

/// <summary>Builds the providers from their named options; called by the container after the options were validated.</summary>
internal static class PostgresProviderFactory
{
    public static TOptions Options<TOptions>(IServiceProvider services, string name)
        => services.GetRequiredService<IOptionsMonitor<TOptions>>().Get(name);

    /// <summary>
    /// The front door of an <c>AddPostgresJournal</c> registration: one <see cref="PgStore"/> (its pools, journal, state,
    /// leases and admin) that every role of the registration shares.
    /// </summary>
    public static PgStore Store(PostgresJournalOptions options, ILoggerFactory loggerFactory)
        => Store(options, loggerFactory, warmUp: true, store =>
        {
            store.EventsTable = options.EventsTable;
            store.StateTable = options.StateTable;
            store.SubscriptionsTable = options.Reactions.SubscriptionsTable;
            // Wakes the reaction workers on every silo; only worth its cost when there are reactions.
            store.NotifyOnCommit = options.Reactions.HasReactions && options.Reactions.NotifyOnCommit;
            store.SynchronousLeaseWrites = options.Reactions.SynchronousLeaseWrites;
            store.WarmReadConnections = options.WarmReadConnections;
        });

    /// <summary>The tables an <c>AddPostgresJournal</c> registration seeds: the subscriptions only with reactions or retention.</summary>
    public static StoreTables Tables(PostgresJournalOptions options)
        => options.Reactions.HasReactions || options.Retention.KeepFor is not null
            ? StoreTables.All
            : StoreTables.Events | StoreTables.States;

    /// <summary>The journal provider of an <c>AddPostgresJournal</c> registration, on its shared store.</summary>
    public static PostgresLogConsistencyProvider LogConsistency(IServiceProvider services, string registration, string name, PgStore store)
    {
        var options = Options<PostgresJournalOptions>(services, registration);
        return new PostgresLogConsistencyProvider(
            name, options, options, store, ownsStore: false, Stopping(services), services.GetRequiredService<ILoggerFactory>(), services);
    }

    /// <summary>A stand-alone journal provider with its own store (and pool, unless its options bring a data source).</summary>
    public static PostgresLogConsistencyProvider LogConsistency(IServiceProvider services, string name)
    {
        var options = Options<PostgresLogConsistencyOptions>(services, name);
        var loggerFactory = services.GetRequiredService<ILoggerFactory>();
        var store = Store(options, loggerFactory, warmUp: false, store =>
        {
            store.EventsTable = options.Table;
            store.WarmReadConnections = 0;
        });
        return Owning(store, () => new PostgresLogConsistencyProvider(
            name, options, options, store, ownsStore: true, Stopping(services), loggerFactory, services));
    }

    /// <summary>Cancelled when the host starts stopping, before Orleans deactivates grains.</summary>
    private static CancellationToken Stopping(IServiceProvider services)
        => services.GetService<IHostApplicationLifetime>()?.ApplicationStopping ?? CancellationToken.None;

    /// <summary>The grain storage of an <c>AddPostgresJournal</c> registration, on its shared store.</summary>
    public static PostgresGrainStorage GrainStorage(IServiceProvider services, string registration, string name, PgStore store)
    {
        var options = Options<PostgresJournalOptions>(services, registration);
        return new PostgresGrainStorage(
            name,
            services.GetProviderClusterOptions(name).Value.ServiceId,
            store,
            StoredJsonOptions.Create(options.JsonSerializerOptions, options.StrictReads, options.TolerantReadTypes),
            services.GetRequiredService<IActivatorProvider>(),
            ownsStore: false,
            services.GetRequiredService<ILogger<PostgresGrainStorage>>());
    }

    /// <summary>A stand-alone grain storage with its own store (and pool, unless its options bring a data source).</summary>
    public static PostgresGrainStorage GrainStorage(IServiceProvider services, string name)
        => GrainStorage(
            name,
            Options<PostgresGrainStorageOptions>(services, name),
            services.GetProviderClusterOptions(name).Value.ServiceId,
            services.GetRequiredService<IActivatorProvider>(),
            services.GetRequiredService<ILoggerFactory>());

    /// <summary>
    /// A grain storage without a silo, for storage test kits and unit tests of code that takes an
    /// <see cref="Orleans.Storage.IGrainStorage"/>; the options are checked as at silo start. Its table is not created:
    /// call <c>Store.SeedAsync()</c> first.
    /// </summary>
    /// <exception cref="OrleansConfigurationException">A setting is wrong or missing; the message names every one.</exception>
    public static PostgresGrainStorage StandaloneGrainStorage(
        string name, PostgresGrainStorageOptions options, string serviceId, IActivatorProvider activators, ILoggerFactory? loggerFactory = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(serviceId);
        ArgumentNullException.ThrowIfNull(activators);
        new PostgresOptionsValidator(options, $"PostgreSQL grain storage '{name}'").ValidateConfiguration();
        return GrainStorage(name, options, serviceId, activators, loggerFactory ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
    }

    /// <summary>A stand-alone grain storage from explicit dependencies.</summary>
    public static PostgresGrainStorage GrainStorage(
        string name, PostgresGrainStorageOptions options, string serviceId, IActivatorProvider activators, ILoggerFactory loggerFactory)
    {
        var store = Store(options, loggerFactory, warmUp: false, store =>
        {
            store.StateTable = options.Table;
            store.WarmReadConnections = 0;
        });
        return Owning(store, () => new PostgresGrainStorage(
            name,
            serviceId,
            store,
            StoredJsonOptions.Create(options.JsonSerializerOptions, options.StrictReads, options.TolerantReadTypes),
            activators,
            ownsStore: true,
            loggerFactory.CreateLogger<PostgresGrainStorage>()));
    }

    /// <summary>
    /// Orleans builds the runtime services of a log view adaptor through this factory, but registers its own only
    /// from its built-in providers; ours stands in when none of those is registered.
    /// </summary>
    public static Factory<IGrainContext, ILogConsistencyProtocolServices> ProtocolServices(IServiceProvider services)
    {
        var copier = services.GetRequiredService<DeepCopier>();
        var clusterId = services.GetRequiredService<IOptions<ClusterOptions>>().Value.ClusterId;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger<PostgresProtocolServices>();
        return context => new PostgresProtocolServices(context, copier, clusterId, logger);
    }


    /// <summary>
    /// The front door of the clustering or reminder provider: the tables it needs hang off it
    /// (<see cref="PgStore.CreateMembershipStore"/>, <see cref="PgStore.CreateReminderStore"/>); no warm pool.
    /// </summary>
    public static PgStore Store(PostgresStoreOptions options, ILoggerFactory loggerFactory)
        => Store(options, loggerFactory, warmUp: false, store => store.WarmReadConnections = 0);

    /// <summary>One front door from a provider's options: its data source or connection string, schema and timeout.</summary>
    private static PgStore Store(PostgresStoreOptions options, ILoggerFactory loggerFactory, bool warmUp, Action<PgStoreOptions> tables)
    {
        var builder = options.DataSource is { } dataSource ? new PgStoreBuilder(dataSource) : new PgStoreBuilder(options.ConnectionString!);
        builder.WarmUpConnections = warmUp;
        return builder
            .UseLoggerFactory(loggerFactory)   // Npgsql logs through the silo's logger factory too.
            .Configure(store =>
            {
                store.Schema = options.Schema;
                store.CommandTimeout = options.CommandTimeout;
                tables(store);
            })
            .Build();
    }

    /// <summary>Disposes <paramref name="store"/> when the provider that would own it cannot be built.</summary>
    private static T Owning<T>(PgStore store, Func<T> create)
    {
        try
        {
            return create();
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }
}
