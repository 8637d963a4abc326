using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
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
using OrleansPgStore.Store.Connection;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.State;

namespace OrleansPgStore.Hosting;

/// <summary>Builds the providers from their named options; called by the container after the options were validated.</summary>
internal static class PostgresProviderFactory
{
    public static TOptions Options<TOptions>(IServiceProvider services, string name)
        => services.GetRequiredService<IOptionsMonitor<TOptions>>().Get(name);

    /// <summary>The journal provider of an <c>AddPostgresJournal</c> registration, on its shared journal.</summary>
    public static PostgresLogConsistencyProvider LogConsistency(
        IServiceProvider services, string registration, string name, PostgresJournalServices shared)
    {
        var options = Options<PostgresJournalOptions>(services, registration);
        return new PostgresLogConsistencyProvider(
            name, options, options, shared.Journal, shared.ActivationReads, ownedDataSource: null, Stopping(services),
            services.GetRequiredService<ILoggerFactory>(), services);
    }

    /// <summary>A stand-alone journal provider with its own data source (unless its options bring one).</summary>
    public static PostgresLogConsistencyProvider LogConsistency(IServiceProvider services, string name)
    {
        var options = Options<PostgresLogConsistencyOptions>(services, name);
        var loggerFactory = services.GetRequiredService<ILoggerFactory>();
        return WithDataSource(options, loggerFactory, dataSource => new PostgresLogConsistencyProvider(
            name, options, options,
            new JournalStore(
                new JournalStoreOptions
                {
                    DataSource = dataSource.Shared,
                    Schema = options.Schema,
                    Table = options.Table,
                    CommandTimeout = options.CommandTimeout,
                },
                loggerFactory),
            activationReads: null,
            dataSource.Owned, Stopping(services), loggerFactory, services));
    }

    /// <summary>Cancelled when the host starts stopping, before Orleans deactivates grains.</summary>
    private static CancellationToken Stopping(IServiceProvider services)
        => services.GetService<IHostApplicationLifetime>()?.ApplicationStopping ?? CancellationToken.None;

    /// <summary>The grain storage of an <c>AddPostgresJournal</c> registration, on its shared state store.</summary>
    public static PostgresGrainStorage GrainStorage(IServiceProvider services, string registration, string name, PostgresJournalServices shared)
    {
        var options = Options<PostgresJournalOptions>(services, registration);
        return new PostgresGrainStorage(
            name,
            services.GetProviderClusterOptions(name).Value.ServiceId,
            shared.States,
            shared.ActivationReads,
            StoredJsonOptions.Create(options.JsonSerializerOptions, options.StrictReads, options.TolerantReadTypes),
            services.GetRequiredService<IActivatorProvider>(),
            ownedDataSource: null,
            services.GetRequiredService<ILogger<PostgresGrainStorage>>());
    }

    /// <summary>A stand-alone grain storage with its own data source (unless its options bring one).</summary>
    public static PostgresGrainStorage GrainStorage(IServiceProvider services, string name)
        => GrainStorage(
            name,
            Options<PostgresGrainStorageOptions>(services, name),
            services.GetProviderClusterOptions(name).Value.ServiceId,
            services.GetRequiredService<IActivatorProvider>(),
            services.GetRequiredService<ILoggerFactory>());

    /// <summary>A stand-alone grain storage from explicit dependencies (also outside a silo).</summary>
    public static PostgresGrainStorage GrainStorage(
        string name, PostgresGrainStorageOptions options, string serviceId, IActivatorProvider activators, ILoggerFactory loggerFactory)
        => WithDataSource(options, loggerFactory, dataSource => new PostgresGrainStorage(
            name,
            serviceId,
            new DurableStateStore(
                new DurableStateStoreOptions
                {
                    DataSource = dataSource.Shared,
                    Schema = options.Schema,
                    Table = options.Table,
                    CommandTimeout = options.CommandTimeout,
                },
                loggerFactory),
            activationReads: null,
            StoredJsonOptions.Create(options.JsonSerializerOptions, options.StrictReads, options.TolerantReadTypes),
            activators,
            dataSource.Owned,
            loggerFactory.CreateLogger<PostgresGrainStorage>()));

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


    private static T WithDataSource<T>(
        PostgresStoreOptions options, ILoggerFactory loggerFactory, Func<(NpgsqlDataSource Shared, NpgsqlDataSource? Owned), T> create)
    {
        // Npgsql logs through the silo's logger factory.
        var owned = options.DataSource is null ? StoreDataSource.Create(options.ConnectionString!, loggerFactory) : null;
        try
        {
            return create((owned ?? options.DataSource!, owned));
        }
        catch
        {
            owned?.Dispose();
            throw;
        }
    }
}
