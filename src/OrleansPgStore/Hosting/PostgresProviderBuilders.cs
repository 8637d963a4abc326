using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Providers;
using OrleansPgStore.Hosting;
using OrleansPgStore.Options;

// Configuration-only hosting: Orleans reads Orleans:GrainStorage:<name>:ProviderType and calls the builder registered
// for that type. Orleans 10.4 reads no log-consistency section, so the journal's log-consistency provider is
// configured through the grain-storage section of the "Postgres" provider type, which wires both roles.
[assembly: RegisterProvider(PostgresJournalProviderBuilder.ProviderType, "GrainStorage", "Silo", typeof(PostgresJournalProviderBuilder))]
[assembly: RegisterProvider(PostgresGrainStorageProviderBuilder.ProviderType, "GrainStorage", "Silo", typeof(PostgresGrainStorageProviderBuilder))]

namespace OrleansPgStore.Hosting;

/// <summary>
/// <c>"ProviderType": "Postgres"</c> under <c>Orleans:GrainStorage:&lt;name&gt;</c>: the whole journal registration
/// (<c>AddPostgresJournal</c>) bound to that section: grain storage under the section's name, and a log-consistency
/// provider under the section's <c>LogConsistencyName</c> (default: the section's name), on one data source.
/// </summary>
internal sealed class PostgresJournalProviderBuilder : IProviderBuilder<ISiloBuilder>
{
    public const string ProviderType = "Postgres";

    public void Configure(ISiloBuilder builder, string? name, IConfigurationSection configurationSection)
    {
        var storageName = string.IsNullOrEmpty(name) ? PostgresJournalOptions.DefaultName : name;
        var names = new PostgresProviderNames
        {
            GrainStorage = storageName,
            LogConsistency = configurationSection["LogConsistencyName"] is { Length: > 0 } logConsistency ? logConsistency : storageName,
        };
        builder.Services.AddPostgresJournal(storageName, names, options => options.BindJournal(configurationSection));
    }
}

/// <summary>
/// <c>"ProviderType": "PostgresGrainStorage"</c> under <c>Orleans:GrainStorage:&lt;name&gt;</c>: grain storage only
/// (<c>AddPostgresGrainStorage</c>), bound to that section.
/// </summary>
internal sealed class PostgresGrainStorageProviderBuilder : IProviderBuilder<ISiloBuilder>
{
    public const string ProviderType = "PostgresGrainStorage";

    public void Configure(ISiloBuilder builder, string? name, IConfigurationSection configurationSection)
        => builder.Services.AddPostgresGrainStorage(
            string.IsNullOrEmpty(name) ? ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME : name,
            (OptionsBuilder<PostgresGrainStorageOptions> options) => options.Bind(configurationSection));
}
