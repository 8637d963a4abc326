using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Messaging;
using OrleansPgStore.Clustering;
using OrleansPgStore.Options;
using OrleansPgStore.Reminders;
using OrleansPgStore.Store;
using OrleansPgStore.Store.Clustering;

namespace OrleansPgStore.Hosting;

/// <summary>
/// Registers the clustering and reminder providers on a service collection; the public <c>UsePostgres…</c> extensions
/// forward here. The stores are built from the validated options when Orleans first asks for the provider.
/// </summary>
internal static class PostgresClusterServices
{
    public const string ClusteringProvider = "PostgreSQL clustering";
    public const string RemindersProvider = "PostgreSQL reminders";

    public static void AddMembershipTable(IServiceCollection services, Action<OptionsBuilder<PostgresClusteringOptions>>? configure)
    {
        AddClusteringOptions(services, configure);
        services.AddSingleton(sp => new PostgresMembershipTable(
            MembershipStore(sp),
            sp.GetRequiredService<IOptions<ClusterOptions>>().Value.ClusterId,
            sp.GetRequiredService<IOptions<PostgresClusteringOptions>>().Value.SeedSchema,
            sp.GetRequiredService<ILogger<PostgresMembershipTable>>()));
        services.AddSingleton<IMembershipTable>(sp => sp.GetRequiredService<PostgresMembershipTable>());
    }

    public static void AddGatewayListProvider(IServiceCollection services, Action<OptionsBuilder<PostgresClusteringOptions>>? configure)
    {
        AddClusteringOptions(services, configure);
        services.AddSingleton(sp => new PostgresGatewayListProvider(
            MembershipStore(sp),
            sp.GetRequiredService<IOptions<ClusterOptions>>().Value.ClusterId,
            sp.GetRequiredService<IOptions<GatewayOptions>>().Value.GatewayListRefreshPeriod));
        services.AddSingleton<IGatewayListProvider>(sp => sp.GetRequiredService<PostgresGatewayListProvider>());
    }

    public static void AddReminderTable(IServiceCollection services, Action<OptionsBuilder<PostgresReminderOptions>>? configure)
    {
        configure?.Invoke(services.AddOptions<PostgresReminderOptions>());
        services.ConfigureFormatter<PostgresReminderOptions>();
        services.AddTransient<IConfigurationValidator>(sp => new PostgresTableOptionsValidator<PostgresReminderOptions>(
            () => sp.GetRequiredService<IOptions<PostgresReminderOptions>>().Value,
            RemindersProvider,
            options => [(nameof(options.Table), options.Table)]));
        services.AddReminders();
        // The provider's front door (its pool, unless the options bring a data source), disposed with the silo.
        services.AddKeyedSingleton(typeof(PostgresReminderOptions), (sp, _) => PostgresProviderFactory.Store(
            sp.GetRequiredService<IOptions<PostgresReminderOptions>>().Value, sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<PostgresReminderOptions>>().Value;
            return new PostgresReminderTable(
                sp.GetRequiredKeyedService<PgStore>(typeof(PostgresReminderOptions)).CreateReminderStore(options.Table),
                sp.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId,
                options.SeedSchema,
                sp.GetRequiredService<ILogger<PostgresReminderTable>>());
        });
        services.AddSingleton<IReminderTable>(sp => sp.GetRequiredService<PostgresReminderTable>());
    }

    /// <summary>
    /// Points <paramref name="options"/> at the data source, schema and timeouts of the journal registered as
    /// <paramref name="journal"/>, so the whole app runs on one connection pool.
    /// </summary>
    public static void ShareJournal(PostgresStoreOptions options, IServiceProvider services, string journal)
    {
        var journalOptions = services.GetRequiredService<IOptionsMonitor<PostgresJournalOptions>>().Get(journal);
        options.ConnectionString = null;
        options.DataSource = services.GetRequiredKeyedService<PgStore>(journal).DataSource;
        options.Schema = journalOptions.Schema;
        options.CommandTimeout = journalOptions.CommandTimeout;
        options.SeedSchema = journalOptions.SeedSchema;
    }

    private static void AddClusteringOptions(IServiceCollection services, Action<OptionsBuilder<PostgresClusteringOptions>>? configure)
    {
        configure?.Invoke(services.AddOptions<PostgresClusteringOptions>());
        services.ConfigureFormatter<PostgresClusteringOptions>();
        services.AddKeyedSingleton(typeof(PostgresClusteringOptions), (sp, _) => PostgresProviderFactory.Store(
            sp.GetRequiredService<IOptions<PostgresClusteringOptions>>().Value, sp.GetRequiredService<ILoggerFactory>()));
        services.AddTransient<IConfigurationValidator>(sp => new PostgresTableOptionsValidator<PostgresClusteringOptions>(
            () => sp.GetRequiredService<IOptions<PostgresClusteringOptions>>().Value,
            ClusteringProvider,
            options =>
            [
                (nameof(options.MembershipTable), options.MembershipTable),
                (nameof(options.MembershipVersionTable), options.MembershipVersionTable),
            ]));
    }

    /// <summary>The membership tables on the clustering provider's front door (one per silo or client, its pool disposed with it).</summary>
    private static MembershipStore MembershipStore(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<PostgresClusteringOptions>>().Value;
        return services.GetRequiredKeyedService<PgStore>(typeof(PostgresClusteringOptions))
            .CreateMembershipStore(options.MembershipTable, options.MembershipVersionTable);
    }
}
