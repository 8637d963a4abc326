using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Serialization.Serializers;
using OrleansPgStore.Hosting;
using OrleansPgStore.Options;

namespace OrleansPgStore.Storage;

public sealed partial class PostgresGrainStorage
{
    /// <summary>
    /// Builds a grain storage without a silo: for storage test kits and unit tests of code that takes an
    /// <see cref="Orleans.Storage.IGrainStorage"/>. A silo builds its own through <c>AddPostgresGrainStorage</c> or
    /// <c>AddPostgresJournal</c> instead.
    /// </summary>
    /// <param name="name">The provider's name (it appears in errors).</param>
    /// <param name="options">The options; checked like at silo start.</param>
    /// <param name="serviceId">The Orleans service id the stored keys are scoped to (<c>ClusterOptions.ServiceId</c>).</param>
    /// <param name="activators">Creates new states, from Orleans' serializer services
    /// (<c>new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService&lt;IActivatorProvider&gt;()</c>).</param>
    /// <param name="loggerFactory">Where the storage and its engine log; none by default.</param>
    /// <returns>The storage. It owns a data source unless <see cref="PostgresStoreOptions.DataSource"/> is set; dispose
    /// it. Its table is not created: call <c>Store.SeedAsync()</c> first, or apply <c>silo-config/sql</c>.</returns>
    /// <exception cref="Orleans.Runtime.OrleansConfigurationException">A setting is wrong or missing; the message names
    /// every one.</exception>
    public static PostgresGrainStorage Create(
        string name, PostgresGrainStorageOptions options, string serviceId, IActivatorProvider activators, ILoggerFactory? loggerFactory = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(serviceId);
        ArgumentNullException.ThrowIfNull(activators);
        new PostgresOptionsValidator(options, $"PostgreSQL grain storage '{name}'").ValidateConfiguration();
        return PostgresProviderFactory.GrainStorage(name, options, serviceId, activators, loggerFactory ?? NullLoggerFactory.Instance);
    }
}
