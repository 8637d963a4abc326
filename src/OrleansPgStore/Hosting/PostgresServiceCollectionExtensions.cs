using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.EventSourcing;
using Orleans.Metadata;
using Orleans.Providers;
using Orleans.Runtime;
using Orleans.Runtime.Hosting;
using Orleans.Storage;
using OrleansPgStore.EventSourcing;
using OrleansPgStore.Hosting;
using OrleansPgStore.Maintenance;
using OrleansPgStore.Options;
using OrleansPgStore.Reactions;
using OrleansPgStore.Storage;
using OrleansPgStore.Store;

namespace Orleans.Hosting;

/// <summary>
/// Registers OrleansPgStore's providers on a service collection. The <see cref="ISiloBuilder"/> extensions in
/// <see cref="PostgresSiloBuilderExtensions"/> forward here.
/// </summary>
internal static class PostgresServiceCollectionExtensions
{
    /// <summary>Registers the PostgreSQL journal and grain storage under <see cref="PostgresJournalOptions.DefaultName"/>.</summary>
    /// <inheritdoc cref="AddPostgresJournal(IServiceCollection, string, Action{OptionsBuilder{PostgresJournalOptions}})" path="/remarks"/>
    public static IServiceCollection AddPostgresJournal(this IServiceCollection services, Action<PostgresJournalOptions> configure)
        => services.AddPostgresJournal(PostgresJournalOptions.DefaultName, configure);

    /// <summary>Registers the PostgreSQL journal and grain storage under <paramref name="name"/>.</summary>
    /// <inheritdoc cref="AddPostgresJournal(IServiceCollection, string, Action{OptionsBuilder{PostgresJournalOptions}})" path="/remarks"/>
    public static IServiceCollection AddPostgresJournal(this IServiceCollection services, string name, Action<PostgresJournalOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddPostgresJournal(name, builder => builder.Configure(configure));
    }

    /// <summary>
    /// Registers the PostgreSQL journal and grain storage under <see cref="PostgresJournalOptions.DefaultName"/>,
    /// bound to a configuration section (e.g. <c>configuration.GetSection("Postgres")</c>).
    /// </summary>
    /// <inheritdoc cref="AddPostgresJournal(IServiceCollection, string, Action{OptionsBuilder{PostgresJournalOptions}})" path="/remarks"/>
    public static IServiceCollection AddPostgresJournal(this IServiceCollection services, IConfiguration configuration)
        => services.AddPostgresJournal(PostgresJournalOptions.DefaultName, configuration);

    /// <summary>Registers the PostgreSQL journal and grain storage under <paramref name="name"/>, bound to a configuration section.</summary>
    /// <inheritdoc cref="AddPostgresJournal(IServiceCollection, string, Action{OptionsBuilder{PostgresJournalOptions}})" path="/remarks"/>
    public static IServiceCollection AddPostgresJournal(this IServiceCollection services, string name, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return services.AddPostgresJournal(name, builder => builder.BindJournal(configuration));
    }

    /// <summary>
    /// Registers the PostgreSQL journal and grain storage under <c>Default</c>: JournaledGrains and
    /// <c>[PersistentState]</c> grains that name no provider use them.
    /// </summary>
    /// <inheritdoc cref="AddPostgresJournal(IServiceCollection, string, Action{OptionsBuilder{PostgresJournalOptions}})" path="/remarks"/>
    public static IServiceCollection AddPostgresJournalAsDefault(this IServiceCollection services, Action<PostgresJournalOptions> configure)
        => services.AddPostgresJournal(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME, configure);

    /// <summary>Registers the PostgreSQL journal and grain storage under <paramref name="name"/>.</summary>
    /// <param name="services">The silo's services.</param>
    /// <param name="name">The provider name, used by <c>[LogConsistencyProvider(ProviderName = …)]</c>,
    /// <c>[PersistentState("state", …)]</c> and as the key of the registration's <see cref="PgStore"/>.</param>
    /// <param name="configureOptions">Configures the named <see cref="PostgresJournalOptions"/>.</param>
    /// <returns>The service collection.</returns>
    /// <remarks>
    /// <para>One call wires one <see cref="PgStore"/> (its connection pools, disposed with the silo; a keyed service
    /// by <paramref name="name"/>), the creation of schema and tables when the silo starts, the
    /// log-consistency provider (under the name, and as <c>Default</c> unless a default is already registered),
    /// the runtime services JournaledGrains need, the grain storage (under the name; as <c>Default</c> too
    /// when the name is <c>Default</c>), and, when reactions are registered in
    /// <see cref="PostgresJournalOptions.Reactions"/>, the reaction worker grains that run them. The options are checked when the silo starts; a wrong or missing setting
    /// fails the start with an <see cref="OrleansConfigurationException"/> naming it.</para>
    /// </remarks>
    public static IServiceCollection AddPostgresJournal(
        this IServiceCollection services, string name, Action<OptionsBuilder<PostgresJournalOptions>>? configureOptions = null)
        => services.AddPostgresJournal(name, new PostgresProviderNames(), configureOptions);

    /// <summary>
    /// Registers the PostgreSQL journal under <paramref name="name"/>, serving its log-consistency provider and grain
    /// storage under the names in <paramref name="names"/>, on one data source.
    /// </summary>
    /// <param name="services">The silo's services.</param>
    /// <param name="name">The registration's name: its options and the key of its <see cref="PgStore"/>, and
    /// the name of each role <paramref name="names"/> leaves unnamed.</param>
    /// <param name="names">The roles' names.</param>
    /// <param name="configureOptions">Configures the named <see cref="PostgresJournalOptions"/>.</param>
    /// <returns>The service collection.</returns>
    /// <inheritdoc cref="AddPostgresJournal(IServiceCollection, string, Action{OptionsBuilder{PostgresJournalOptions}})" path="/remarks"/>
    public static IServiceCollection AddPostgresJournal(
        this IServiceCollection services,
        string name,
        PostgresProviderNames names,
        Action<OptionsBuilder<PostgresJournalOptions>>? configureOptions = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(names);
        var logConsistencyName = string.IsNullOrEmpty(names.LogConsistency) ? name : names.LogConsistency;
        var grainStorageName = string.IsNullOrEmpty(names.GrainStorage) ? name : names.GrainStorage;
        var provider = $"PostgreSQL journal '{name}'";
        configureOptions?.Invoke(services.AddOptions<PostgresJournalOptions>(name));
        services.ConfigureNamedOptionForLogging<PostgresJournalOptions>(name);
        services.AddTransient<IConfigurationValidator>(
            sp => new PostgresOptionsValidator(PostgresProviderFactory.Options<PostgresJournalOptions>(sp, name), provider));

        // The registration's one front door: its pools and stores, shared by every role below.
        services.AddKeyedSingleton(name, (sp, _) => PostgresProviderFactory.Store(
            PostgresProviderFactory.Options<PostgresJournalOptions>(sp, name), sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => new PostgresSchemaSeeder(
            provider,
            PostgresProviderFactory.Options<PostgresJournalOptions>(sp, name),
            cancellationToken => sp.GetRequiredKeyedService<PgStore>(name).SeedTablesAsync(
                PostgresProviderFactory.Tables(PostgresProviderFactory.Options<PostgresJournalOptions>(sp, name)), cancellationToken),
            sp.GetRequiredService<ILogger<PostgresSchemaSeeder>>()));

        // Reaction workers: idle unless reactions are registered in the options. Orleans places them.
        services.AddKeyedSingleton(name, (sp, _) => new PostgresReactions(
            name, sp.GetRequiredKeyedService<PgStore>(name), PostgresProviderFactory.Options<PostgresJournalOptions>(sp, name).Reactions, sp));
        services.AddKeyedSingleton(name, (sp, _) => new ReactionWorkerSupervisor(
            name,
            PostgresProviderFactory.Options<PostgresJournalOptions>(sp, name).Reactions,
            sp,
            sp.GetRequiredService<ILogger<ReactionWorkerSupervisor>>()));
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredKeyedService<ReactionWorkerSupervisor>(name));
        services.AddSingleton<IGrainPropertiesProvider>(sp => sp.GetRequiredKeyedService<ReactionWorkerSupervisor>(name));
        if (!services.Any(s => s.IsKeyedService && Equals(s.ServiceKey, typeof(ReactionWorkerPlacement))))
        {
            services.AddPlacementDirector<ReactionWorkerPlacement, ReactionWorkerPlacementDirector>();
            // The worker grains and the supervisors ask the same director where a worker belongs before moving it.
            services.AddSingleton<ReactionWorkerPlacementDirector>();
        }

        // Scheduled retention (off unless Retention.KeepFor is set) and the lag gauges' sampling (only with reactions).
        services.AddSingleton<IHostedService>(sp => new PostgresRetentionService(
            name,
            PostgresProviderFactory.Options<PostgresJournalOptions>(sp, name).Retention,
            () => sp.GetRequiredKeyedService<PgStore>(name),
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            sp.GetRequiredService<ILogger<PostgresRetentionService>>()));
        services.AddSingleton<IHostedService>(sp => new ReactionLagSampler(
            PostgresProviderFactory.Options<PostgresJournalOptions>(sp, name).Reactions,
            () => sp.GetRequiredKeyedService<PgStore>(name),
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            sp.GetRequiredService<ILogger<ReactionLagSampler>>()));

        AddLogConsistency(services, logConsistencyName, names.LogConsistencyAsDefault, sp => PostgresProviderFactory.LogConsistency(
            sp, name, logConsistencyName, sp.GetRequiredKeyedService<PgStore>(name)));
        AddStorage(services, grainStorageName, sp => PostgresProviderFactory.GrainStorage(
            sp, name, grainStorageName, sp.GetRequiredKeyedService<PgStore>(name)));
        return services;
    }

    /// <summary>Registers a PostgreSQL grain storage provider under <paramref name="name"/>.</summary>
    /// <inheritdoc cref="AddPostgresGrainStorage(IServiceCollection, string, Action{OptionsBuilder{PostgresGrainStorageOptions}})" path="/remarks"/>
    public static IServiceCollection AddPostgresGrainStorage(this IServiceCollection services, string name, Action<PostgresGrainStorageOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddPostgresGrainStorage(name, builder => builder.Configure(configure));
    }

    /// <summary>Registers a PostgreSQL grain storage provider as <c>Default</c>.</summary>
    /// <inheritdoc cref="AddPostgresGrainStorage(IServiceCollection, string, Action{OptionsBuilder{PostgresGrainStorageOptions}})" path="/remarks"/>
    public static IServiceCollection AddPostgresGrainStorageAsDefault(this IServiceCollection services, Action<PostgresGrainStorageOptions> configure)
        => services.AddPostgresGrainStorage(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME, configure);

    /// <summary>Registers a PostgreSQL grain storage provider under <paramref name="name"/>.</summary>
    /// <param name="services">The silo's services.</param>
    /// <param name="name">The provider name, as in <c>[PersistentState("state", name)]</c>.</param>
    /// <param name="configureOptions">Configures the named <see cref="PostgresGrainStorageOptions"/>.</param>
    /// <returns>The service collection.</returns>
    /// <remarks>
    /// The provider owns a connection pool unless <see cref="PostgresStoreOptions.DataSource"/> is set, and creates
    /// its table when the silo starts unless <see cref="PostgresStoreOptions.SeedSchema"/> is off. See
    /// <see cref="PostgresGrainStorage"/> for keys, ETags and what clearing does.
    /// </remarks>
    public static IServiceCollection AddPostgresGrainStorage(
        this IServiceCollection services, string name, Action<OptionsBuilder<PostgresGrainStorageOptions>>? configureOptions = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var provider = $"PostgreSQL grain storage '{name}'";
        configureOptions?.Invoke(services.AddOptions<PostgresGrainStorageOptions>(name));
        services.ConfigureNamedOptionForLogging<PostgresGrainStorageOptions>(name);
        services.AddTransient<IConfigurationValidator>(
            sp => new PostgresOptionsValidator(PostgresProviderFactory.Options<PostgresGrainStorageOptions>(sp, name), provider));
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => new PostgresSchemaSeeder(
            provider,
            PostgresProviderFactory.Options<PostgresGrainStorageOptions>(sp, name),
            cancellationToken => sp.GetRequiredKeyedService<PostgresGrainStorage>(name).Store.SeedAsync(cancellationToken),
            sp.GetRequiredService<ILogger<PostgresSchemaSeeder>>()));
        AddStorage(services, name, sp => PostgresProviderFactory.GrainStorage(sp, name));
        return services;
    }

    /// <summary>Registers a PostgreSQL log-consistency provider under <paramref name="name"/>.</summary>
    /// <inheritdoc cref="AddPostgresLogConsistencyProvider(IServiceCollection, string, Action{OptionsBuilder{PostgresLogConsistencyOptions}})" path="/remarks"/>
    public static IServiceCollection AddPostgresLogConsistencyProvider(
        this IServiceCollection services, string name, Action<PostgresLogConsistencyOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddPostgresLogConsistencyProvider(name, builder => builder.Configure(configure));
    }

    /// <summary>Registers a PostgreSQL log-consistency provider as <c>Default</c>.</summary>
    /// <inheritdoc cref="AddPostgresLogConsistencyProvider(IServiceCollection, string, Action{OptionsBuilder{PostgresLogConsistencyOptions}})" path="/remarks"/>
    public static IServiceCollection AddPostgresLogConsistencyProviderAsDefault(
        this IServiceCollection services, Action<PostgresLogConsistencyOptions> configure)
        => services.AddPostgresLogConsistencyProvider(ProviderConstants.DEFAULT_LOG_CONSISTENCY_PROVIDER_NAME, configure);

    /// <summary>Registers a PostgreSQL log-consistency provider under <paramref name="name"/>.</summary>
    /// <param name="services">The silo's services.</param>
    /// <param name="name">The provider name, as in <c>[LogConsistencyProvider(ProviderName = name)]</c>.</param>
    /// <param name="configureOptions">Configures the named <see cref="PostgresLogConsistencyOptions"/>.</param>
    /// <returns>The service collection.</returns>
    /// <remarks>
    /// Also registers the runtime services JournaledGrains need. The provider owns a connection pool unless
    /// <see cref="PostgresStoreOptions.DataSource"/> is set, and creates its table when the silo starts unless
    /// <see cref="PostgresStoreOptions.SeedSchema"/> is off. See <see cref="PostgresLogConsistencyProvider"/>.
    /// </remarks>
    public static IServiceCollection AddPostgresLogConsistencyProvider(
        this IServiceCollection services, string name, Action<OptionsBuilder<PostgresLogConsistencyOptions>>? configureOptions = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var provider = $"PostgreSQL log-consistency provider '{name}'";
        configureOptions?.Invoke(services.AddOptions<PostgresLogConsistencyOptions>(name));
        services.ConfigureNamedOptionForLogging<PostgresLogConsistencyOptions>(name);
        services.AddTransient<IConfigurationValidator>(
            sp => new PostgresOptionsValidator(PostgresProviderFactory.Options<PostgresLogConsistencyOptions>(sp, name), provider));
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => new PostgresSchemaSeeder(
            provider,
            PostgresProviderFactory.Options<PostgresLogConsistencyOptions>(sp, name),
            cancellationToken => sp.GetRequiredKeyedService<PostgresLogConsistencyProvider>(name).Journal.SeedAsync(cancellationToken),
            sp.GetRequiredService<ILogger<PostgresSchemaSeeder>>()));
        AddLogConsistency(services, name, asDefault: false, sp => PostgresProviderFactory.LogConsistency(sp, name));
        return services;
    }

    private static void AddLogConsistency(
        IServiceCollection services, string name, bool asDefault, Func<IServiceProvider, PostgresLogConsistencyProvider> create)
    {
        const string defaultName = ProviderConstants.DEFAULT_LOG_CONSISTENCY_PROVIDER_NAME;
        services.TryAddSingleton<Factory<IGrainContext, ILogConsistencyProtocolServices>>(PostgresProviderFactory.ProtocolServices);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureGrainContextProvider, SnapshotSaveOnDeactivation>());
        services.AddKeyedSingleton(name, (sp, _) => create(sp));
        services.AddKeyedSingleton<ILogViewAdaptorFactory>(name, (sp, _) => sp.GetRequiredKeyedService<PostgresLogConsistencyProvider>(name));
        services.AddKeyedSingleton(name, (sp, _) => sp.GetRequiredKeyedService<PostgresLogConsistencyProvider>(name).Events);
        if (asDefault && name != defaultName)
        {
            services.TryAddKeyedSingleton<ILogViewAdaptorFactory>(defaultName, (sp, _) => sp.GetRequiredKeyedService<PostgresLogConsistencyProvider>(name));
        }

        // How Orleans' own providers let grains without [LogConsistencyProvider] find the default.
        services.TryAddSingleton<ILogViewAdaptorFactory>(sp => sp.GetKeyedService<ILogViewAdaptorFactory>(defaultName)!);
    }

    private static void AddStorage(IServiceCollection services, string name, Func<IServiceProvider, PostgresGrainStorage> create)
    {
        services.AddKeyedSingleton(name, (sp, _) => create(sp));
        // Declared as IGrainStorage so that AddGrainStorage registers no lifecycle participant: the seeder does that.
        services.AddGrainStorage<IGrainStorage>(name, (sp, _) => sp.GetRequiredKeyedService<PostgresGrainStorage>(name));
    }
}
