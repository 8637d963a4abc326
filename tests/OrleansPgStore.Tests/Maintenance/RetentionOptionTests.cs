using Orleans.TestingHost;
using OrleansPgStore.Testing;
using OrleansPgStore.Tests.Grains;

namespace OrleansPgStore.Tests.Maintenance;

/// <summary>Retention configured on AddPostgresJournal trims history behind snapshots while grains keep working.</summary>
public sealed class RetentionOptionTests : IAsyncLifetime
{
    private PostgresTestSchema _schema = null!;
    private InProcessTestCluster _cluster = null!;

    public async ValueTask InitializeAsync()
    {
        _schema = await PostgresTestSchema.CreateAsync("retention");
        _cluster = TestClusters.Build(
            _schema.ConnectionString, _schema.Name, silos: 1,
            configure: options =>
            {
                options.Retention.KeepFor = TimeSpan.FromMilliseconds(1);
                options.Retention.Interval = TimeSpan.FromMilliseconds(200);
                options.Retention.BatchSize = 2;
            });
        await _cluster.DeployAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _schema.DisposeAsync();
    }

    [Fact]
    public async Task History_behind_snapshots_is_trimmed_while_grains_keep_writing_and_reading()
    {
        var accounts = Enumerable.Range(0, 5).Select(i => _cluster.Client.GetGrain<IAccountGrain>($"kept{i}")).ToArray();
        var rounds = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        // Keep the grains busy until retention has visibly trimmed every one of them at least once.
        while (await TrimmedStreamsAsync() < accounts.Length)
        {
            Assert.True(DateTime.UtcNow < deadline, "retention never trimmed every stream");
            rounds++;
            await Task.WhenAll(accounts.Select(a => a.Deposit(1, $"r{rounds}")));
        }

        await Task.WhenAll(accounts.Select(a => a.Deposit(1, "after")));
        await _cluster.StopAllSilosAsync();
        await using var again = TestClusters.Build(_schema.ConnectionString, _schema.Name, silos: 1);
        await again.DeployAsync();

        // Reactivated from the snapshot and the events after it: every deposit counted, none lost to retention.
        foreach (var i in Enumerable.Range(0, accounts.Length))
        {
            var view = await again.Client.GetGrain<IAccountGrain>($"kept{i}").Get();
            Assert.Equal(rounds + 1, view.Balance);
            Assert.Equal(rounds + 1, view.Version);
        }
    }

    /// <summary>Streams whose oldest stored row is past version 0: retention removed their start.</summary>
    private async Task<long> TrimmedStreamsAsync()
        => await _schema.ScalarAsync<long>(
            $"SELECT count(*) FROM (SELECT stream FROM \"{_schema.Name}\".events GROUP BY stream HAVING min(version) > 0) t");
}
