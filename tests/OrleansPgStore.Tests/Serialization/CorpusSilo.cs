using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.TestingHost;
using OrleansPgStore.Options;
using OrleansPgStore.Serialization;
using OrleansPgStore.Store;
using OrleansPgStore.Testing;

namespace OrleansPgStore.Tests.Serialization;

/// <summary>
/// One silo on a schema of its own, for the JSON contract's corpus tests: the provider's event serializer, journal and
/// Orleans' deep copier (the reference a faithful value must equal).
/// </summary>
/// <param name="schemaPrefix">The schema's name prefix.</param>
/// <param name="configure">The provider's options (the corpus registers its type names here).</param>
public abstract class CorpusSilo(string schemaPrefix, Action<PostgresJournalOptions> configure) : IAsyncLifetime
{
    private PostgresTestSchema? _schema;
    private InProcessTestCluster? _cluster;

    protected PostgresTestSchema Schema => _schema ?? throw new InvalidOperationException("Fixture not initialized.");

    protected InProcessTestCluster Cluster => _cluster ?? throw new InvalidOperationException("Fixture not initialized.");

    protected IServiceProvider Services => Cluster.Silos[0].ServiceProvider;

    public JournalEventSerializer Events => Services.GetRequiredKeyedService<JournalEventSerializer>(TestClusters.Provider);

    public OrleansPgStore.Store.Journal.JournalStore Journal
        => Services.GetRequiredKeyedService<PgStore>(TestClusters.Provider).Journal;

    protected DeepCopier Copier => Services.GetRequiredService<DeepCopier>();

    public async ValueTask InitializeAsync()
    {
        _schema = await PostgresTestSchema.CreateAsync(schemaPrefix);
        _cluster = TestClusters.Build(_schema.ConnectionString, _schema.Name, silos: 1, configure: configure);
        await _cluster.DeployAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }

        if (_schema is not null)
        {
            await _schema.DisposeAsync();
        }
    }
}
