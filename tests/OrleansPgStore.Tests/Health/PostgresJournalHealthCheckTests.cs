using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.TestingHost;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Testing;

namespace OrleansPgStore.Tests.Health;

/// <summary>The journal's health check on a silo with reactions: healthy, listener down, target blocked, tables missing.</summary>
public sealed class PostgresJournalHealthCheckTests : IAsyncLifetime
{
    private PostgresTestSchema _schema = null!;
    private InProcessTestCluster _cluster = null!;

    public async ValueTask InitializeAsync()
    {
        _schema = await PostgresTestSchema.CreateAsync("health");
        _cluster = TestClusters.Build(
            _schema.ConnectionString, _schema.Name, silos: 1,
            configure: options => options.Reactions.On("Deposited", (_, _, _) => Task.CompletedTask),
            configureSilo: silo =>
            {
                silo.UseInMemoryReminderService();
                silo.Services.AddHealthChecks().AddPostgresJournal(TestClusters.Provider, o => o.MaxLag = TimeSpan.FromHours(1));
            });
        await _cluster.DeployAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _schema.DisposeAsync();
    }

    [Fact]
    public async Task An_unhandled_event_older_than_MaxLag_degrades_the_silo_until_it_is_handled()
    {
        await using var journal = new JournalStore(new JournalStoreOptions { ConnectionString = _schema.ConnectionString, Schema = _schema.Name });
        var committed = await journal.CommitAsync("lagging", [new EventData("Other", "{}")]);
        await _schema.ExecuteAsync($"UPDATE \"{_schema.Name}\".events SET created = now() - interval '2 hours' WHERE stream = 'lagging'");
        // A target behind that no worker will take (deferred), so its lag stays: neither blocked nor handled.
        await _schema.ExecuteAsync(
            $"INSERT INTO \"{_schema.Name}\".subscriptions (stream, work, due) VALUES ('lagging', {committed[0].Position}, now() + interval '1 day')");

        var lagging = await CheckAsync();

        Assert.Equal(HealthStatus.Degraded, lagging.Status);
        Assert.Contains("behind (more than 1 h", lagging.Description, StringComparison.Ordinal);
        Assert.DoesNotContain("blocked", lagging.Description, StringComparison.Ordinal);
        Assert.True((double)lagging.Data["lag_seconds"] > 3600);

        await _schema.ExecuteAsync($"UPDATE \"{_schema.Name}\".subscriptions SET at = work WHERE stream = 'lagging'");
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync()).Status);
    }

    [Fact]
    public async Task A_reachable_seeded_store_with_reactions_keeping_up_is_healthy()
    {
        var entry = await CheckAsync();

        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Equal(true, entry.Data["listener_connected"]);
        Assert.Equal(0L, entry.Data["blocked_targets"]);
    }

    [Fact]
    public async Task A_blocked_target_degrades_the_silo_until_it_is_unblocked()
    {
        await _schema.ExecuteAsync(
            $"INSERT INTO \"{_schema.Name}\".subscriptions (stream, blocked, error) VALUES ('poisoned', true, 'handler threw')");

        var entry = await CheckAsync();

        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Contains("1 reaction target(s) blocked", entry.Description);
        Assert.Equal(1L, entry.Data["blocked_targets"]);

        await _schema.ExecuteAsync($"UPDATE \"{_schema.Name}\".subscriptions SET blocked = false WHERE stream = 'poisoned'");
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync()).Status);
    }

    [Fact]
    public async Task A_lost_listen_connection_degrades_the_silo_until_it_is_back()
    {
        await using var journal = new JournalStore(new JournalStoreOptions { ConnectionString = _schema.ConnectionString, Schema = _schema.Name });
        var channel = journal.Channel;
        HealthReportEntry? down = null;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (down is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "never saw the listener down");
            // The listener reconnects within 100 ms; look while it is away.
            await _schema.ScalarAsync<bool>(
                "SELECT bool_or(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query = @listen",
                ("listen", $"LISTEN \"{channel}\""));
            for (var i = 0; i < 20 && down is null; i++)
            {
                var entry = await CheckAsync();
                down = entry.Data.TryGetValue("listener_connected", out var connected) && Equals(connected, false) ? entry : null;
            }
        }

        Assert.Equal(HealthStatus.Degraded, down.Value.Status);
        Assert.Contains("LISTEN connection is down", down.Value.Description);
        var back = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while ((await CheckAsync()).Status != HealthStatus.Healthy)
        {
            Assert.True(DateTime.UtcNow < back, "the listener never came back");
            await Task.Delay(50);
        }
    }

    /// <summary>Every table the silo's providers and reactions need, the checkpoints table included (a schema seeded by hand may lack it).</summary>
    [Theory]
    [InlineData("events")]
    [InlineData("durable_state")]
    [InlineData("subscriptions")]
    [InlineData("subscriptions_checkpoints")]
    public async Task Missing_tables_make_the_silo_unhealthy(string table)
    {
        Assert.Equal(HealthStatus.Healthy, (await CheckAsync()).Status);   // negative control: the same check with every table present
        await _schema.ExecuteAsync($"ALTER TABLE \"{_schema.Name}\".{table} RENAME TO {table}_away");
        try
        {
            var entry = await CheckAsync();

            Assert.Equal(HealthStatus.Unhealthy, entry.Status);
            Assert.Contains($"{_schema.Name}.{table}", entry.Description);
        }
        finally
        {
            await _schema.ExecuteAsync($"ALTER TABLE \"{_schema.Name}\".{table}_away RENAME TO {table}");
        }
    }

    private async Task<HealthReportEntry> CheckAsync()
    {
        var report = await _cluster.Silos[0].ServiceProvider.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        var entry = Assert.Single(report.Entries);
        Assert.Equal($"postgres-journal-{TestClusters.Provider}", entry.Key);   // the documented check name
        return entry.Value;
    }
}
