using Microsoft.Extensions.Options;
using OrleansPgStore.Hosting;
using OrleansPgStore.Options;

namespace Orleans.Hosting;

/// <summary>
/// PostgreSQL as the silo's reminder table: one row per grain and reminder name in
/// <see cref="PostgresReminderOptions.Table"/>, keyed by the cluster's service id and found by the grain-hash ring.
/// </summary>
public static class PostgresReminderExtensions
{
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
    internal static ISiloBuilder UsePostgresReminderService(this ISiloBuilder builder, Action<OptionsBuilder<PostgresReminderOptions>>? configureOptions)
    {
        ArgumentNullException.ThrowIfNull(builder);
        PostgresClusterServices.AddReminderTable(builder.Services, configureOptions);
        return builder;
    }
}
