using Microsoft.Extensions.Options;
using OrleansPgStore.Hosting;
using OrleansPgStore.Options;

namespace Orleans.Hosting;

/// <summary>
/// PostgreSQL as the membership table of silos and the gateway list of clients: silos keep one row per incarnation and
/// a version row per cluster id in <see cref="PostgresClusteringOptions.MembershipTable"/> and
/// <see cref="PostgresClusteringOptions.MembershipVersionTable"/>; clients read the active gateways from them.
/// </summary>
public static class PostgresClusteringExtensions
{
    /// <summary>Uses PostgreSQL as the silo's membership table.</summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="configure">Configures the options (at least the connection string or data source).</param>
    /// <returns>The silo builder.</returns>
    /// <remarks>The silo creates the tables before it joins unless <see cref="PostgresStoreOptions.SeedSchema"/> is off.</remarks>
    public static ISiloBuilder UsePostgresClustering(this ISiloBuilder builder, Action<PostgresClusteringOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return builder.UsePostgresClustering(options => options.Configure(configure));
    }

    /// <inheritdoc cref="UsePostgresClustering(ISiloBuilder, Action{PostgresClusteringOptions})"/>
    public static ISiloBuilder UsePostgresClustering(this ISiloBuilder builder, Action<OptionsBuilder<PostgresClusteringOptions>>? configureOptions)
    {
        ArgumentNullException.ThrowIfNull(builder);
        PostgresClusteringServices.AddMembershipTable(builder.Services, configureOptions);
        return builder;
    }

    /// <summary>Lets the client find the cluster's gateways in the PostgreSQL membership table its silos keep.</summary>
    /// <param name="builder">The client builder.</param>
    /// <param name="configure">Configures the options: the same database, schema and tables as the silos'.</param>
    /// <returns>The client builder.</returns>
    /// <remarks>A client never creates tables; it connects once a silo of its cluster has joined.</remarks>
    public static IClientBuilder UsePostgresClustering(this IClientBuilder builder, Action<PostgresClusteringOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return builder.UsePostgresClustering(options => options.Configure(configure));
    }

    /// <inheritdoc cref="UsePostgresClustering(IClientBuilder, Action{PostgresClusteringOptions})"/>
    public static IClientBuilder UsePostgresClustering(this IClientBuilder builder, Action<OptionsBuilder<PostgresClusteringOptions>>? configureOptions)
    {
        ArgumentNullException.ThrowIfNull(builder);
        PostgresClusteringServices.AddGatewayListProvider(builder.Services, configureOptions);
        return builder;
    }

    /// <summary>
    /// Uses PostgreSQL as the silo's reminder table (and adds the reminder service): one row per grain and reminder
    /// name in <see cref="PostgresReminderOptions.Table"/>, keyed by the cluster's service id.
    /// </summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="configure">Configures the options (at least the connection string or data source).</param>
    /// <returns>The silo builder.</returns>
    /// <remarks>The silo creates the table when the reminder service starts unless <see cref="PostgresStoreOptions.SeedSchema"/> is off.</remarks>
    public static ISiloBuilder UsePostgresReminderService(this ISiloBuilder builder, Action<PostgresReminderOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return builder.UsePostgresReminderService(options => options.Configure(configure));
    }

    /// <inheritdoc cref="UsePostgresReminderService(ISiloBuilder, Action{PostgresReminderOptions})"/>
    public static ISiloBuilder UsePostgresReminderService(this ISiloBuilder builder, Action<OptionsBuilder<PostgresReminderOptions>>? configureOptions)
    {
        ArgumentNullException.ThrowIfNull(builder);
        PostgresClusteringServices.AddReminderTable(builder.Services, configureOptions);
        return builder;
    }

    /// <summary>
    /// Makes PostgreSQL the whole app, on one data source: clustering, reminders, and the journal registration of
    /// <c>AddPostgresJournal</c> (JournaledGrains, grain storage, reactions) under
    /// <see cref="PostgresJournalOptions.DefaultName"/>.
    /// </summary>
    /// <param name="builder">The silo builder.</param>
    /// <param name="connectionString">The Npgsql connection string.</param>
    /// <param name="configure">Further journal settings; clustering and reminders follow its schema, command timeout and
    /// <see cref="PostgresStoreOptions.SeedSchema"/>.</param>
    /// <returns>The silo builder.</returns>
    /// <remarks>
    /// Equivalent to <c>AddPostgresJournal</c>, <c>UsePostgresClustering</c> and <c>UsePostgresReminderService</c> with
    /// the clustering and reminder providers on the journal's data source (one connection pool). Clients connect with
    /// <see cref="UsePostgresClustering(IClientBuilder, Action{PostgresClusteringOptions})"/> and the same connection
    /// string and schema.
    /// </remarks>
    public static ISiloBuilder UseOrleansPgStore(this ISiloBuilder builder, string connectionString, Action<PostgresJournalOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        const string journal = PostgresJournalOptions.DefaultName;
        builder.AddPostgresJournal(journal, options =>
        {
            options.ConnectionString = connectionString;
            configure?.Invoke(options);
        });
        builder.UsePostgresClustering(options => options.Configure<IServiceProvider>(
            (clustering, services) => PostgresClusteringServices.ShareJournal(clustering, services, journal)));
        builder.UsePostgresReminderService(options => options.Configure<IServiceProvider>(
            (reminders, services) => PostgresClusteringServices.ShareJournal(reminders, services, journal)));
        return builder;
    }
}
