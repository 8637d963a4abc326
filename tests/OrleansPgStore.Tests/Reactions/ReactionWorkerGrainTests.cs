using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.TestingHost;
using OrleansPgStore.Options;
using OrleansPgStore.Reactions;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Testing;

namespace OrleansPgStore.Tests.Reactions;

/// <summary>Reactions registered on the silo builder, run by worker grains competing across silos.</summary>
public sealed class ReactionWorkerGrainTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private PostgresTestSchema _schema = null!;

    public async ValueTask InitializeAsync() => _schema = await PostgresTestSchema.CreateAsync("reactions");

    public async ValueTask DisposeAsync() => await _schema.DisposeAsync();

    [Fact]
    public async Task Reactions_are_handled_exactly_once_in_effect_across_two_silos_while_one_is_stopped_midway()
    {
        var effects = $"\"{_schema.Name}\".effects";
        await _schema.ExecuteAsync($"CREATE TABLE {effects} (position bigint PRIMARY KEY, stream text NOT NULL, handled int NOT NULL DEFAULT 1)");
        var connectionString = _schema.ConnectionString;
        await using var cluster = BuildCluster(connectionString, _schema.Name, effects);
        await cluster.DeployAsync();
        await using var journal = new JournalStore(new JournalStoreOptions { ConnectionString = connectionString, Schema = _schema.Name });

        var committed = new List<RecordedEvent>();
        for (var s = 0; s < 20; s++)
        {
            committed.AddRange(await journal.CommitAsync($"account/{s}", Enumerable.Range(0, 5).Select(i => new EventData("Deposited", $$"""{"amount":{{i}}}""")).ToList()));
        }

        await WaitForAsync(() => _schema.ScalarAsync<long>($"SELECT count(*) FROM {effects}"), atLeast: 30);

        // Stop one silo mid-way: its workers die holding leases, which expire and are taken by the other silo.
        await cluster.StopSiloAsync(cluster.Silos[1]);
        for (var s = 0; s < 20; s++)
        {
            committed.AddRange(await journal.CommitAsync($"account/{s}", Enumerable.Range(5, 5).Select(i => new EventData("Deposited", $$"""{"amount":{{i}}}""")).ToList()));
        }

        await WaitForAsync(() => _schema.ScalarAsync<long>($"SELECT count(*) FROM {effects}"), atLeast: committed.Count);

        Assert.Equal(committed.Count, await _schema.ScalarAsync<long>($"SELECT count(*) FROM {effects}"));
        Assert.Equal(0, await _schema.ScalarAsync<long>(
            $"SELECT count(*) FROM {effects} WHERE position NOT IN ({string.Join(",", committed.Select(e => e.Position))})"));
        await using var leases = new LeaseStore(new LeaseStoreOptions { ConnectionString = connectionString, Schema = _schema.Name });
        await WaitForAsync(
            async () => (await leases.QueryStreamsAsync(new SubscriptionFilter(), limit: 100))
                .Count(t => t.At == committed.Where(e => e.Stream == t.Stream).Max(e => e.Position)),
            atLeast: 20);
    }

    [Fact]
    public async Task Worker_grains_spread_over_the_silos_and_report_their_work()
    {
        var effects = $"\"{_schema.Name}\".spread_effects";
        await _schema.ExecuteAsync($"CREATE TABLE {effects} (position bigint PRIMARY KEY, stream text NOT NULL, handled int NOT NULL DEFAULT 1)");
        await using var cluster = BuildCluster(_schema.ConnectionString, _schema.Name, effects);
        await cluster.DeployAsync();
        var workers = Enumerable.Range(0, 2).Select(i => cluster.Client.GetGrain<IReactionWorkerGrain>($"{TestClusters.Provider}/{i}")).ToList();

        // One worker per silo: placement puts worker i on the silo ranked i mod 2 (a silo short of its share pulls it in).
        // Asked of each silo's runtime: a call to a worker grain would itself place it.
        var deadline = DateTime.UtcNow + Patience;
        List<IReadOnlyList<string>> local;
        while ((local = cluster.Silos.Select(s => s.ServiceProvider.GetRequiredKeyedService<PostgresReactions>(TestClusters.Provider).LocalHolders).ToList())
               .Any(h => h.Count != 1))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the workers run as {string.Join(" | ", local.Select(h => string.Join(", ", h)))}");
            await Task.Delay(100);
        }

        Assert.All(cluster.Silos.Zip(local), p => Assert.StartsWith(p.First.SiloAddress.ToParsableString() + "/", p.Second[0]));

        // Busy cycles count per activation: commit once the workers stay where they are.
        await using var journal = new JournalStore(new JournalStoreOptions { ConnectionString = _schema.ConnectionString, Schema = _schema.Name });
        await journal.CommitAsync("account/x", [new EventData("Deposited", "{}")]);
        await WaitForAsync(() => _schema.ScalarAsync<long>($"SELECT count(*) FROM {effects}"), atLeast: 1);
        // The cycle that wrote the effect counts itself when it ends, just after.
        await WaitForAsync(async () => (await Task.WhenAll(workers.Select(w => w.GetBusyCyclesAsync()))).Sum(), atLeast: 1);

        // The workers' checkpoint is named after the provider, in a copy: the options a silo was given stay as given.
        var silo = cluster.Silos[0].ServiceProvider;
        Assert.Equal(TestClusters.Provider, Runtime(cluster.Silos[0]).Worker.Name);
        Assert.Equal("default", silo.GetRequiredService<IOptionsMonitor<PostgresJournalOptions>>().Get(TestClusters.Provider).Reactions.Worker.Name);
    }

    [Fact]
    public async Task A_silo_killed_while_its_worker_holds_a_lease_hands_the_target_over_long_before_the_lease_expires()
    {
        var effects = $"\"{_schema.Name}\".handover_effects";
        await _schema.ExecuteAsync($"CREATE TABLE {effects} (position bigint PRIMARY KEY, stream text NOT NULL, handled int NOT NULL DEFAULT 1)");
        var run = Guid.NewGuid().ToString("N");
        var cluster = BuildCluster(_schema.ConnectionString, _schema.Name, effects, leaseDuration: TimeSpan.FromMinutes(10), run: run);
        try
        {
            await cluster.DeployAsync();
            await using var journal = new JournalStore(new JournalStoreOptions { ConnectionString = _schema.ConnectionString, Schema = _schema.Name });
            var stuck = (await journal.CommitAsync("account/stuck", [new EventData("Deposited", "{}")]))[0];

            // The worker that claims the target hangs in its handler, holding the lease: kill its silo.
            await using var leases = new LeaseStore(new LeaseStoreOptions { ConnectionString = _schema.ConnectionString, Schema = _schema.Name });
            string? holder = null;
            var deadline = DateTime.UtcNow + Patience;
            while ((holder = (await leases.QueryStreamsAsync(SubscriptionFilter.ForStreams("account/stuck"))).SingleOrDefault()?.Holder) is null)
            {
                Assert.True(DateTime.UtcNow < deadline, "nobody claimed the target");
                await Task.Delay(20);
            }

            var victim = cluster.Silos.Single(s => holder.StartsWith(s.SiloAddress.ToParsableString() + "/", StringComparison.Ordinal));
            var survivor = cluster.Silos.Single(s => s != victim);
            HandoverGate.Allow(run, survivor.SiloAddress.ToParsableString());
            await cluster.KillSiloAsync(victim);

            // Handled on the survivor although the lease had ten minutes left.
            await WaitForAsync(() => _schema.ScalarAsync<long>($"SELECT count(*) FROM {effects} WHERE position = {stuck.Position}"), atLeast: 1);
            var after = await journal.CommitAsync("account/after", [new EventData("Deposited", "{}")]);
            await WaitForAsync(() => _schema.ScalarAsync<long>($"SELECT count(*) FROM {effects} WHERE position = {after[0].Position}"), atLeast: 1);
        }
        finally
        {
            HandoverGate.Allow(run, "*");
            await cluster.DisposeAsync();
        }
    }
    [Fact]
    public async Task Killing_a_silo_that_runs_no_worker_does_not_stop_the_others()
    {
        var effects = $"\"{_schema.Name}\".workerless_effects";
        await _schema.ExecuteAsync($"CREATE TABLE {effects} (position bigint PRIMARY KEY, stream text NOT NULL, handled int NOT NULL DEFAULT 1)");
        var cluster = BuildCluster(_schema.ConnectionString, _schema.Name, effects, leaseDuration: TimeSpan.FromMinutes(10), silos: 3);
        try
        {
            await cluster.DeployAsync();
            await using var journal = new JournalStore(new JournalStoreOptions { ConnectionString = _schema.ConnectionString, Schema = _schema.Name });
            await journal.CommitAsync("account/before", [new EventData("Deposited", "{}")]);
            await WaitForAsync(() => _schema.ScalarAsync<long>($"SELECT count(*) FROM {effects}"), atLeast: 1);

            // Two workers over three silos: one silo runs none (its share is empty).
            var deadline = DateTime.UtcNow + Patience;
            InProcessSiloHandle? idle;
            while ((idle = cluster.Silos.FirstOrDefault(s => Runtime(s).LocalHolders.Count == 0)) is null
                   || cluster.Silos.Count(s => Runtime(s).LocalHolders.Count == 1) != 2)
            {
                Assert.True(DateTime.UtcNow < deadline, $"the workers never settled one per silo: {Holders(cluster)}");
                await Task.Delay(100);
            }

            await cluster.KillSiloAsync(idle);
            var committed = new List<RecordedEvent>();
            for (var s = 0; s < 10; s++)
            {
                committed.AddRange(await journal.CommitAsync($"account/{s}", [new EventData("Deposited", "{}"), new EventData("Deposited", "{}")]));
            }

            await WaitForAsync(
                () => _schema.ScalarAsync<long>($"SELECT count(*) FROM {effects} WHERE position >= {committed.Min(e => e.Position)}"), atLeast: committed.Count);
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_worker_lost_with_its_silo_is_revived_by_its_reminder_when_no_silo_checks()
    {
        var effects = $"\"{_schema.Name}\".revival_effects";
        await _schema.ExecuteAsync($"CREATE TABLE {effects} (position bigint PRIMARY KEY, stream text NOT NULL, handled int NOT NULL DEFAULT 1)");
        // The silos check their workers once at start only: a lost worker can come back through its reminder alone.
        var capture = new LogCapture();
        var cluster = BuildCluster(_schema.ConnectionString, _schema.Name, effects, workerCheckInterval: Timeout.InfiniteTimeSpan, capture: capture);
        try
        {
            await cluster.DeployAsync();
            // With no checks after start, the silos' start checks may have raced each other (a worker placed while
            // the other silo was not yet in view): check as the silos' later checks would.
            var deadline = DateTime.UtcNow + Patience;
            while (cluster.Silos.Any(s => Runtime(s).LocalHolders.Count != 1))
            {
                capture.Entries.Enqueue(new LogCapture.Entry(LogLevel.Debug, "test", 0, $"settle step: {Holders(cluster)}", null));
                Assert.True(DateTime.UtcNow < deadline, $"the workers never settled one per silo: {Holders(cluster)}");
                foreach (var silo in cluster.Silos)
                {
                    await silo.ServiceProvider.GetRequiredKeyedService<ReactionWorkerSupervisor>(TestClusters.Provider).CheckWorkersAsync();
                }

                await Task.Delay(100);
            }

            // Keep the silo holding the in-memory reminder table (its reminders would die with it); kill the other.
            var management = cluster.Client.GetGrain<IManagementGrain>(0);
            var table = (await management.GetDetailedGrainStatistics())
                .Single(g => g.GrainType.Contains("ReminderTable", StringComparison.Ordinal));
            var victim = cluster.Silos.Single(s => s.SiloAddress != table.SiloAddress);
            var survivor = cluster.Silos.Single(s => s.SiloAddress == table.SiloAddress);
            await cluster.KillSiloAsync(victim);

            // Reminders tick at Orleans' minimum period (1 minute).
            deadline = DateTime.UtcNow + TimeSpan.FromMinutes(4);
            while (Runtime(survivor).LocalHolders.Count != 2)
            {
                Assert.True(DateTime.UtcNow < deadline, $"the lost worker was not revived: {Holders(cluster)}");
                await Task.Delay(500);
            }

            await using var journal = new JournalStore(new JournalStoreOptions { ConnectionString = _schema.ConnectionString, Schema = _schema.Name });
            var committed = await journal.CommitAsync("account/revived", [new EventData("Deposited", "{}")]);
            await WaitForAsync(() => _schema.ScalarAsync<long>($"SELECT count(*) FROM {effects} WHERE position = {committed[0].Position}"), atLeast: 1);
        }
        finally
        {
            Trace(capture);
            await cluster.DisposeAsync();
        }
    }

    /// <summary>
    /// Writes the placement trace (the directors' decisions, the workers' activations, moves and deactivations, the
    /// settle steps) to the directory ORLEANSPGSTORE_PLACEMENT_TRACE names, to see why workers did not settle.
    /// </summary>
    private static void Trace(LogCapture capture)
    {
        if (Environment.GetEnvironmentVariable("ORLEANSPGSTORE_PLACEMENT_TRACE") is { Length: > 0 } directory)
        {
            Directory.CreateDirectory(directory);
            File.WriteAllLines(Path.Combine(directory, $"trace-{DateTime.UtcNow:HHmmss}.log"),
                capture.Entries.Where(e => e.Level >= LogLevel.Warning || e.Category is "test" || e.Category.StartsWith("OrleansPgStore.Reactions", StringComparison.Ordinal))
                    .OrderBy(e => e.At).Select(e => $"{e.At:HH:mm:ss.fff} {e.Level} {e.Category}: {e.Message} {e.Exception}"));
        }
    }

    private static PostgresReactions Runtime(InProcessSiloHandle silo)
        => silo.ServiceProvider.GetRequiredKeyedService<PostgresReactions>(TestClusters.Provider);

    /// <summary>Which workers each live silo runs, for failure messages.</summary>
    private static string Holders(InProcessTestCluster cluster)
        => string.Join("; ", cluster.Silos.Select(s => $"{s.SiloAddress} runs [{string.Join(", ", Runtime(s).LocalHolders)}]"));

    [Fact]
    public void Wrong_reaction_settings_are_named_by_the_validator()
    {
        var options = new PostgresJournalOptions { ConnectionString = "Host=localhost" };
        options.Reactions.Workers = -1;
        options.Reactions.SubscriptionsTable = "bad name";
        options.Reactions.Worker.PageSize = 0;

        var failures = PostgresOptionsValidator.Check(options);

        Assert.Contains(failures, f => f.Contains("Reactions.Workers"));
        Assert.Contains(failures, f => f.Contains("Reactions.SubscriptionsTable"));
        Assert.Contains(failures, f => f.Contains("Reactions.Worker") && f.Contains("PageSize"));
    }

    private static InProcessTestCluster BuildCluster(
        string connectionString, string schema, string effects, TimeSpan? leaseDuration = null, string? run = null, short silos = 2,
        TimeSpan? workerCheckInterval = null, LogCapture? capture = null)
        => TestClusters.Build(
            connectionString,
            schema,
            silos,
            configure: options =>
            {
                options.Reactions.Workers = 2;
                options.Reactions.WorkerCheckInterval = workerCheckInterval ?? TimeSpan.FromSeconds(1);
                options.Reactions.Worker.LeaseDuration = leaseDuration ?? TimeSpan.FromSeconds(3);
                options.Reactions.Worker.PageSize = 2;
                options.Reactions.Worker.PollInterval = TimeSpan.FromMilliseconds(100);
                options.Reactions.On("Deposited", async (e, services, ct) =>
                {
                    if (run is not null && e.Stream == "account/stuck")
                    {
                        await HandoverGate.WaitAsync(run, services.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToParsableString(), ct);
                    }

                    // Effects idempotent by position: a redelivery only bumps the counter.
                    await using var connection = new NpgsqlConnection(connectionString);
                    await connection.OpenAsync(ct);
                    await using var command = new NpgsqlCommand(
                        $"INSERT INTO {effects} (position, stream) VALUES ($1, $2) ON CONFLICT (position) DO UPDATE SET handled = {effects}.handled + 1",
                        connection);
                    command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = e.Position });
                    command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = e.Stream });
                    await command.ExecuteNonQueryAsync(ct);
                });
            },
            configureSilo: silo =>
            {
                if (capture is not null)
                {
                    silo.Services.AddSingleton<ILoggerProvider>(capture);
                    silo.Services.AddLogging(logging => logging.AddFilter("OrleansPgStore", LogLevel.Debug).AddFilter("Orleans.Grain", LogLevel.Debug));
                }

                silo
                .UseInMemoryReminderService()
                // A killed silo is declared dead within seconds.
                .Configure<ClusterMembershipOptions>(o =>
                {
                    o.ProbeTimeout = TimeSpan.FromSeconds(1);
                    o.NumMissedProbesLimit = 2;
                    o.NumVotesForDeathDeclaration = 1;
                });
            });

    private static Task WaitForAsync(Func<Task<long>> probe, long atLeast) => Eventually.AtLeastAsync(probe, atLeast, "the count");

    private static Task WaitForAsync(Func<Task<int>> probe, int atLeast) => WaitForAsync(async () => (long)await probe(), atLeast);

    /// <summary>Holds the stuck handler on every silo but the one allowed (per test run; the silos share the process).</summary>
    private static class HandoverGate
    {
        private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> Allowed = new();

        public static void Allow(string run, string silo) => Allowed[run] = silo;

        public static async Task WaitAsync(string run, string silo, CancellationToken cancellationToken)
        {
            while (!Allowed.TryGetValue(run, out var allowed) || (allowed != "*" && allowed != silo))
            {
                await Task.Delay(20, cancellationToken);
            }
        }
    }
}
