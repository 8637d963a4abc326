using Orleans.TestingHost;
using OrleansPgStore.Testing;

namespace OrleansPgStore.Tests.Support;

/// <summary>A two-silo cluster on a schema of its own, shared by the tests of the <c>cluster</c> collection.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    private PostgresTestSchema? _schema;
    private InProcessTestCluster? _cluster;

    public PostgresTestSchema Schema => _schema ?? throw new InvalidOperationException("Fixture not initialized.");

    public InProcessTestCluster Cluster => _cluster ?? throw new InvalidOperationException("Fixture not initialized.");

    public IClusterClient Client => Cluster.Client;

    /// <summary>Runs SQL against the fixture's schema (<c>{schema}</c> in the text is replaced by its quoted name).</summary>
    public Task<T?> ScalarAsync<T>(string sql, params (string Name, object? Value)[] parameters)
        => Schema.ScalarAsync<T>(sql.Replace("{schema}", $"\"{Schema.Name}\"", StringComparison.Ordinal), parameters);

    public Task ExecuteAsync(string sql)
        => Schema.ExecuteAsync(sql.Replace("{schema}", $"\"{Schema.Name}\"", StringComparison.Ordinal));

    public async ValueTask InitializeAsync()
    {
        _schema = await PostgresTestSchema.CreateAsync("plugin");
        _cluster = TestClusters.Build(_schema.ConnectionString, _schema.Name);
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
