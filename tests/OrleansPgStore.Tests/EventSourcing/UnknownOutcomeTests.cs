using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OrleansPgStore.Tests.Grains;
using OrleansPgStore.Testing;

namespace OrleansPgStore.Tests.EventSourcing;

/// <summary>
/// A commit that reaches the database but whose reply is lost (the connection drops): the journal retries with the
/// same event ids and gets the stored events back, so nothing is appended twice.
/// </summary>
public sealed class UnknownOutcomeTests
{
    [Fact]
    public async Task A_write_whose_reply_is_lost_is_retried_without_appending_twice()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("outcome");
        var (proxy, throughProxy) = FaultProxy.To(schema.ConnectionString);
        await using var _ = proxy;
        var capture = new LogCapture();
        await using var cluster = TestClusters.Build(
            throughProxy, schema.Name, silos: 2, configureSilo: silo => silo.Services.AddSingleton<ILoggerProvider>(capture));
        await cluster.DeployAsync();
        var account = cluster.Client.GetGrain<IAccountGrain>("flaky");
        await account.Deposit(10, "before");

        proxy.CutNextResult();
        await account.DepositMany(3, 1, "cut");
        proxy.CutNextResult();
        await account.Deposit(100, "cut again");
        await account.Deposit(1000, "after");

        Assert.Equal(2, proxy.Cuts);
        Assert.Equal(2, capture.Messages.Count(m => m.Contains("outcome is unknown", StringComparison.Ordinal)));
        var view = await account.Refresh();
        Assert.Equal(6, view.Version);
        Assert.Equal(1113, view.Balance);
        Assert.Equal(new[] { "before", "cut0", "cut1", "cut2", "cut again", "after" }, view.Memos);
        Assert.Equal(6L, await schema.ScalarAsync<long>(
            $"SELECT count(*) FROM \"{schema.Name}\".events WHERE stream = 'account/flaky' AND NOT snapshot"));
        // Every event carries an id; ids are unique per stream.
        Assert.Equal(6L, await schema.ScalarAsync<long>(
            $"SELECT count(DISTINCT event_id) FROM \"{schema.Name}\".events WHERE stream = 'account/flaky' AND NOT snapshot"));
    }
}
