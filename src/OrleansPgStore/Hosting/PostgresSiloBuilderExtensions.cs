using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using OrleansPgStore.Hosting;
using OrleansPgStore.Options;

namespace Orleans.Hosting;

/// <summary>
/// Makes PostgreSQL the durable home of a silo's grains: <c>AddPostgresJournal</c> wires everything at once; the
/// finer-grained methods add one provider each. Every method forwards to
/// <see cref="PostgresServiceCollectionExtensions"/>, where the registrations are documented.
/// </summary>
public static class PostgresSiloBuilderExtensions
{
    /// <inheritdoc cref="PostgresServiceCollectionExtensions.AddPostgresJournal(Microsoft.Extensions.DependencyInjection.IServiceCollection, Action{PostgresJournalOptions})"/>
    /// <param name="builder">The silo builder.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>The silo builder.</returns>
    public static ISiloBuilder AddPostgresJournal(this ISiloBuilder builder, Action<PostgresJournalOptions> configure)
        => builder.AddPostgresJournal(PostgresJournalOptions.DefaultName, configure);

    /// <inheritdoc cref="PostgresServiceCollectionExtensions.AddPostgresJournal(Microsoft.Extensions.DependencyInjection.IServiceCollection, string, Action{PostgresJournalOptions})"/>
    /// <param name="builder">The silo builder.</param>
    /// <param name="name">The provider name.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>The silo builder.</returns>
    public static ISiloBuilder AddPostgresJournal(this ISiloBuilder builder, string name, Action<PostgresJournalOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddPostgresJournal(name, configure);
        return builder;
    }

    /// <inheritdoc cref="PostgresServiceCollectionExtensions.AddPostgresJournal(Microsoft.Extensions.DependencyInjection.IServiceCollection, string, PostgresProviderNames, Action{OptionsBuilder{PostgresJournalOptions}})"/>
    /// <param name="builder">The silo builder.</param>
    /// <param name="name">The registration's name.</param>
    /// <param name="names">The names of its log-consistency provider and grain storage.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>The silo builder.</returns>
    internal static ISiloBuilder AddPostgresJournal(
        this ISiloBuilder builder, string name, PostgresProviderNames names, Action<PostgresJournalOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddPostgresJournal(name, names, options => options.Configure(configure));
        return builder;
    }

    /// <inheritdoc cref="PostgresServiceCollectionExtensions.AddPostgresJournal(Microsoft.Extensions.DependencyInjection.IServiceCollection, IConfiguration)"/>
    /// <param name="builder">The silo builder.</param>
    /// <param name="configuration">The configuration section holding the options.</param>
    /// <returns>The silo builder.</returns>
    public static ISiloBuilder AddPostgresJournal(this ISiloBuilder builder, IConfiguration configuration)
        => builder.AddPostgresJournal(PostgresJournalOptions.DefaultName, configuration);

    /// <inheritdoc cref="PostgresServiceCollectionExtensions.AddPostgresJournal(Microsoft.Extensions.DependencyInjection.IServiceCollection, string, IConfiguration)"/>
    /// <param name="builder">The silo builder.</param>
    /// <param name="name">The provider name.</param>
    /// <param name="configuration">The configuration section holding the options.</param>
    /// <returns>The silo builder.</returns>
    public static ISiloBuilder AddPostgresJournal(this ISiloBuilder builder, string name, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddPostgresJournal(name, configuration);
        return builder;
    }

    /// <inheritdoc cref="PostgresServiceCollectionExtensions.AddPostgresJournal(Microsoft.Extensions.DependencyInjection.IServiceCollection, string, Action{OptionsBuilder{PostgresJournalOptions}})"/>
    /// <param name="builder">The silo builder.</param>
    /// <param name="name">The provider name.</param>
    /// <param name="configureOptions">Configures the options.</param>
    /// <returns>The silo builder.</returns>
    public static ISiloBuilder AddPostgresJournal(
        this ISiloBuilder builder, string name, Action<OptionsBuilder<PostgresJournalOptions>>? configureOptions)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddPostgresJournal(name, configureOptions);
        return builder;
    }

    /// <inheritdoc cref="PostgresServiceCollectionExtensions.AddPostgresJournalAsDefault"/>
    /// <param name="builder">The silo builder.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>The silo builder.</returns>
    public static ISiloBuilder AddPostgresJournalAsDefault(this ISiloBuilder builder, Action<PostgresJournalOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddPostgresJournalAsDefault(configure);
        return builder;
    }

    /// <inheritdoc cref="PostgresServiceCollectionExtensions.AddPostgresGrainStorage(Microsoft.Extensions.DependencyInjection.IServiceCollection, string, Action{PostgresGrainStorageOptions})"/>
    /// <param name="builder">The silo builder.</param>
    /// <param name="name">The provider name.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>The silo builder.</returns>
    internal static ISiloBuilder AddPostgresGrainStorage(this ISiloBuilder builder, string name, Action<PostgresGrainStorageOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddPostgresGrainStorage(name, configure);
        return builder;
    }

    /// <inheritdoc cref="PostgresServiceCollectionExtensions.AddPostgresGrainStorage(Microsoft.Extensions.DependencyInjection.IServiceCollection, string, Action{OptionsBuilder{PostgresGrainStorageOptions}})"/>
    /// <param name="builder">The silo builder.</param>
    /// <param name="name">The provider name.</param>
    /// <param name="configureOptions">Configures the options.</param>
    /// <returns>The silo builder.</returns>
    internal static ISiloBuilder AddPostgresGrainStorage(
        this ISiloBuilder builder, string name, Action<OptionsBuilder<PostgresGrainStorageOptions>>? configureOptions = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddPostgresGrainStorage(name, configureOptions);
        return builder;
    }

    /// <inheritdoc cref="PostgresServiceCollectionExtensions.AddPostgresGrainStorageAsDefault"/>
    /// <param name="builder">The silo builder.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>The silo builder.</returns>
    internal static ISiloBuilder AddPostgresGrainStorageAsDefault(this ISiloBuilder builder, Action<PostgresGrainStorageOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddPostgresGrainStorageAsDefault(configure);
        return builder;
    }

    /// <inheritdoc cref="PostgresServiceCollectionExtensions.AddPostgresLogConsistencyProvider(Microsoft.Extensions.DependencyInjection.IServiceCollection, string, Action{PostgresLogConsistencyOptions})"/>
    /// <param name="builder">The silo builder.</param>
    /// <param name="name">The provider name.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>The silo builder.</returns>
    internal static ISiloBuilder AddPostgresLogConsistencyProvider(this ISiloBuilder builder, string name, Action<PostgresLogConsistencyOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddPostgresLogConsistencyProvider(name, configure);
        return builder;
    }

    /// <inheritdoc cref="PostgresServiceCollectionExtensions.AddPostgresLogConsistencyProvider(Microsoft.Extensions.DependencyInjection.IServiceCollection, string, Action{OptionsBuilder{PostgresLogConsistencyOptions}})"/>
    /// <param name="builder">The silo builder.</param>
    /// <param name="name">The provider name.</param>
    /// <param name="configureOptions">Configures the options.</param>
    /// <returns>The silo builder.</returns>
    internal static ISiloBuilder AddPostgresLogConsistencyProvider(
        this ISiloBuilder builder, string name, Action<OptionsBuilder<PostgresLogConsistencyOptions>>? configureOptions = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddPostgresLogConsistencyProvider(name, configureOptions);
        return builder;
    }

    /// <inheritdoc cref="PostgresServiceCollectionExtensions.AddPostgresLogConsistencyProviderAsDefault"/>
    /// <param name="builder">The silo builder.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>The silo builder.</returns>
    internal static ISiloBuilder AddPostgresLogConsistencyProviderAsDefault(this ISiloBuilder builder, Action<PostgresLogConsistencyOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddPostgresLogConsistencyProviderAsDefault(configure);
        return builder;
    }
}
