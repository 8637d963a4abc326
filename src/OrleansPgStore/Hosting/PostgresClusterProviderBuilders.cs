using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Providers;
using OrleansPgStore.Hosting;
using OrleansPgStore.Options;

// Configuration-only hosting: Orleans:Clustering:ProviderType = "Postgres" (silos and clients) and
// Orleans:Reminders:ProviderType = "Postgres" (silos), the rest of the section bound to the options.
[assembly: RegisterProvider(PostgresClusteringProviderBuilder.ProviderType, "Clustering", "Silo", typeof(PostgresClusteringProviderBuilder))]
[assembly: RegisterProvider(PostgresClusteringProviderBuilder.ProviderType, "Clustering", "Client", typeof(PostgresClusteringProviderBuilder))]
[assembly: RegisterProvider(PostgresClusteringProviderBuilder.ProviderType, "Reminders", "Silo", typeof(PostgresRemindersProviderBuilder))]

namespace OrleansPgStore.Hosting;

/// <summary>
/// <c>"ProviderType": "Postgres"</c> under <c>Orleans:Clustering</c>: <c>UsePostgresClustering</c> bound to that section
/// (<c>ConnectionString</c>, or <c>ConnectionName</c> naming an entry of <c>ConnectionStrings</c>; <c>Schema</c>, table
/// names, …).
/// </summary>
internal sealed class PostgresClusteringProviderBuilder : IProviderBuilder<ISiloBuilder>, IProviderBuilder<IClientBuilder>
{
    public const string ProviderType = "Postgres";

    public void Configure(ISiloBuilder builder, string? name, IConfigurationSection configurationSection)
        => builder.UsePostgresClustering(options => options.Configure<IServiceProvider>(
            (clustering, services) => Bind(clustering, configurationSection, services)));

    public void Configure(IClientBuilder builder, string? name, IConfigurationSection configurationSection)
        => builder.UsePostgresClustering(options => options.Configure<IServiceProvider>(
            (clustering, services) => Bind(clustering, configurationSection, services)));

    /// <summary>Binds the section; a <c>ConnectionName</c> is looked up in the host's <c>ConnectionStrings</c>.</summary>
    internal static void Bind(PostgresStoreOptions options, IConfigurationSection section, IServiceProvider services)
    {
        section.Bind(options);
        if (string.IsNullOrEmpty(options.ConnectionString) && section["ConnectionName"] is { Length: > 0 } connectionName)
        {
            options.ConnectionString = services.GetRequiredService<IConfiguration>().GetConnectionString(connectionName);
        }
    }
}

/// <summary><c>"ProviderType": "Postgres"</c> under <c>Orleans:Reminders</c>: <c>UsePostgresReminderService</c> bound to that section.</summary>
internal sealed class PostgresRemindersProviderBuilder : IProviderBuilder<ISiloBuilder>
{
    public void Configure(ISiloBuilder builder, string? name, IConfigurationSection configurationSection)
        => builder.UsePostgresReminderService(options => options.Configure<IServiceProvider>(
            (reminders, services) => PostgresClusteringProviderBuilder.Bind(reminders, configurationSection, services)));
}
