using Npgsql;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.Reactions;
using OrleansPgStore.Store.Tests.Support;
using OrleansPgStore.Testing;

namespace OrleansPgStore.Store.Tests.Faults;

/// <summary>
/// Transactional projections under faults: killed backends, a connection lost with the ack sent but not committed, a
/// server restart. The read model must end up with every event's effect exactly once (its table has no key that could
/// absorb a duplicate).
/// </summary>
public sealed class ProjectionFaultTests(SchemaFixture db, ITestOutputHelper output) : IClassFixture<SchemaFixture>
{
    private static ReactionOptions Options(string name) => new()
    {
        Name = name,
        MaxClaim = 5,
        PageSize = 10,
        LeaseDuration = TimeSpan.FromSeconds(1),
        PollInterval = TimeSpan.FromMilliseconds(50),
        MaxRetries = 10_000, // faults must not block anything
        Backoff = new RetryBackoff { Kind = RetryBackoff.Curve.Fixed, Initial = TimeSpan.FromMilliseconds(20), Jitter = 0 },
    };

    [Fact]
    public async Task Backends_killed_again_and_again_during_a_drain_leave_every_effect_exactly_once()
    {
        var application = "storm_" + Guid.NewGuid().ToString("N")[..8];
        var cs = new NpgsqlConnectionStringBuilder(db.ConnectionString) { ApplicationName = application }.ConnectionString;
        await using var writer = await db.JournalAsync("storm_events");
        await using var journal = new JournalStore(new JournalStoreOptions { ConnectionString = cs, Schema = db.Name, Table = "storm_events" });
        await using var leases = new LeaseStore(new LeaseStoreOptions { ConnectionString = cs, Schema = db.Name, Table = "storm_subs" });
        await leases.SeedAsync();
        var model = await ReadModel.CreateAsync(db.Schema.DataSource, db.Name, "storm_model");
        var committed = new List<RecordedEvent>();
        for (var s = 0; s < 30; s++)
        {
            committed.AddRange(await writer.CommitAsync($"s{s}", Events.Many(40)));
        }

        // Each batch also holds its transaction for a few milliseconds, so kills land inside batches, not only between them.
        Func<ProjectionBatch, CancellationToken, Task> Slow(string holder)
        {
            var apply = model.Apply(holder);
            return async (batch, ct) =>
            {
                await apply(batch, ct);
                await using var sleep = batch.CreateCommand("SELECT pg_sleep(0.01)");
                await sleep.ExecuteNonQueryAsync(ct);
            };
        }

        var workers = Enumerable.Range(0, 2)
            .Select(i => new ReactionWorker(
                new ReactionLoop(journal, leases, new ReactionRegistry().Project(["Happened"], Slow($"w{i}")), Options("storm")), journal))
            .ToList();
        foreach (var worker in workers)
        {
            await worker.StartAsync();
        }

        // Kill every backend of the workers every 200 ms for 4 s, while they drain and more events arrive.
        var killed = 0L;
        for (var round = 0; round < 20; round++)
        {
            killed += await db.Schema.ScalarAsync<long>(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = @app", ("app", application));
            if (round % 4 == 0)
            {
                committed.AddRange(await writer.CommitAsync($"s{round % 30}", Events.Many(5)));
            }

            await Task.Delay(200);
        }

        var projectedDuringStorm = await model.CountAsync();
        await Eventually.WaitAsync(async () => await model.CountAsync() >= committed.Count, "every event is projected");
        await Eventually.WaitAsync(async () => (await leases.QueryStreamsAsync(new SubscriptionFilter())).All(s => s.At == s.Work && s.Holder is null),
            "every watermark is at its work mark");
        foreach (var worker in workers)
        {
            await worker.DisposeAsync();
        }

        output.WriteLine($"{killed} backends killed, {committed.Count} events, {projectedDuringStorm} projected during the storm");
        Assert.True(killed > 0, "the storm killed no backend");
        await model.AssertExactlyOnceAsync(committed);
    }

    [Fact]
    public async Task A_connection_lost_after_the_ack_was_sent_but_before_commit_leaves_nothing_and_the_retry_lands_once()
    {
        await using var journal = await db.JournalAsync("cut_events");
        var (proxy, cs) = FaultProxy.To(db.ConnectionString, b => b.Pooling = false);
        await using var _ = proxy;
        await using var leases = new LeaseStore(new LeaseStoreOptions { ConnectionString = cs, Schema = db.Name, Table = "cut_subs" });
        await leases.SeedAsync();
        var model = await ReadModel.CreateAsync(db.Schema.DataSource, db.Name, "cut_model");
        var committed = await journal.CommitAsync("s", Events.Many(6));

        var apply = model.Apply("first");
        var registry = new ReactionRegistry().Project(["Happened"], async (batch, ct) =>
        {
            await apply(batch, ct);
            // From here the server's replies are swallowed: the ack runs on the server, the client never hears of it.
            proxy.MuteServer = true;
        });
        var loop = new ReactionLoop(journal, leases, registry, new ReactionOptions { Name = "cut", LeaseDuration = TimeSpan.FromMinutes(1) }, holder: "A");
        var cycle = Task.Run(() => loop.RunCycleAsync());
        await Eventually.WaitAsync(
            async () => await db.Schema.ScalarAsync<long>(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' AND query LIKE '%clock_timestamp()%' AND query LIKE '%cut_subs%'") == 1,
            "the fenced ack has run and the transaction waits for its commit");
        proxy.CutAll();
        await Assert.ThrowsAnyAsync<Exception>(() => cycle);

        Assert.Equal(0L, await model.CountAsync());
        proxy.MuteServer = false;
        await using var direct = await db.LeasesAsync("cut_subs");
        var held = Assert.Single(await direct.QueryStreamsAsync(SubscriptionFilter.ForStreams("s")));
        Assert.Equal(-1, held.At);

        await db.Schema.ExecuteAsync($"UPDATE \"{db.Name}\".cut_subs SET leased_until = now() - interval '1 second'");
        await new ReactionLoop(journal, direct, new ReactionRegistry().Project(["Happened"], model.Apply("second")), new ReactionOptions { Name = "cut" })
            .UntilIdleAsync();
        await model.AssertExactlyOnceAsync(committed);
        Assert.Equal(0L, await model.CountAsync("holder = 'first'"));
    }

    [Fact]
    public async Task A_server_restart_during_a_drain_leaves_every_effect_exactly_once()
    {
        await using var cluster = await PrivatePostgresCluster.StartAsync();
        const string schema = "projrestart";
        await using var journal = new JournalStore(new JournalStoreOptions { ConnectionString = cluster.ConnectionString, Schema = schema });
        await using var leases = new LeaseStore(new LeaseStoreOptions { ConnectionString = cluster.ConnectionString, Schema = schema });
        await journal.SeedAsync();
        await leases.SeedAsync();
        await using var dataSource = NpgsqlDataSource.Create(cluster.ConnectionString);
        var model = await ReadModel.CreateAsync(dataSource, schema, "model");
        var committed = new List<RecordedEvent>();
        for (var s = 0; s < 40; s++)
        {
            committed.AddRange(await journal.CommitAsync($"s{s}", Events.Many(25)));
        }

        var options = Options("restart");
        options.PageSize = 5; // many small batches: the restart lands mid-drain
        var workers = Enumerable.Range(0, 2)
            .Select(i => new ReactionWorker(
                new ReactionLoop(journal, leases, new ReactionRegistry().Project(["Happened"], model.Apply($"w{i}")), options), journal))
            .ToList();
        foreach (var worker in workers)
        {
            await worker.StartAsync();
        }

        await Eventually.WaitAsync(async () => await model.CountAsync() > 0, "the drain starts");
        await cluster.RestartAsync();
        await Eventually.WaitAsync(async () =>
        {
            try
            {
                return await model.CountAsync() >= committed.Count;
            }
            catch (NpgsqlException)
            {
                return false; // the pool still holds connections to the old server
            }
        }, "every event is projected", TimeSpan.FromMinutes(2));
        await Eventually.WaitAsync(async () => (await leases.QueryStreamsAsync(new SubscriptionFilter())).All(s => s.At == s.Work && s.Holder is null),
            "every watermark is at its work mark");
        foreach (var worker in workers)
        {
            await worker.DisposeAsync();
        }

        await model.AssertExactlyOnceAsync(committed);
    }
}
