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
    internal static ISiloBuilder UsePostgresClustering(this ISiloBuilder builder, Action<OptionsBuilder<PostgresClusteringOptions>>? configureOptions)
    {
        ArgumentNullException.ThrowIfNull(builder);
        PostgresClusterServices.AddMembershipTable(builder.Services, configureOptions);
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
    internal static IClientBuilder UsePostgresClustering(this IClientBuilder builder, Action<OptionsBuilder<PostgresClusteringOptions>>? configureOptions)
    {
        ArgumentNullException.ThrowIfNull(builder);
        PostgresClusterServices.AddGatewayListProvider(builder.Services, configureOptions);
        return builder;
    }
}
