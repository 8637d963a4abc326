using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.TestingHost;
using OrleansPgStore.Options;
using OrleansPgStore.Reactions;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Testing;

namespace OrleansPgStore.Tests.Reactions;

/// <summary>
/// Orleans places the reaction worker grains (<see cref="ReactionWorkerPlacement"/>): N workers spread evenly over the
/// silos that run the reactions, come back on the survivors when a silo stops, and a silo that joins gets its share.
/// </summary>
public sealed class ReactionWorkerPlacementTests : IAsyncLifetime
{
    private PostgresTestSchema _schema = null!;

    public async ValueTask InitializeAsync()
    {
        _schema = await PostgresTestSchema.CreateAsync("placement");
        await _schema.ExecuteAsync($"CREATE TABLE \"{_schema.Name}\".effects (position bigint PRIMARY KEY)");
    }

    public async ValueTask DisposeAsync() => await _schema.DisposeAsync();

    [Theory]
    [InlineData(6, 3)]
    [InlineData(5, 3)]
    [InlineData(2, 2)]
    public async Task Workers_spread_evenly_come_back_on_the_survivors_of_a_stopped_silo_and_a_joining_silo_gets_its_share(int workers, short silos)
    {
        await using var cluster = BuildCluster(workers, silos);
        await cluster.DeployAsync();

        await WaitForBalanceAsync(cluster, workers, silos, "at start");

        await cluster.StopSiloAsync(cluster.Silos[^1]);
        await WaitForBalanceAsync(cluster, workers, silos - 1, "after a silo stopped");
        // The lost workers run again: a commit is handled.
        await using var journal = new JournalStore(new JournalStoreOptions { ConnectionString = _schema.ConnectionString, Schema = _schema.Name });
        var committed = await journal.CommitAsync("account/after-stop", [new EventData("Deposited", "{}")]);
        await Eventually.AtLeastAsync(() => HandledAsync(committed[0].Position), 1, "the commit after the stop handled");

        await cluster.StartAdditionalSiloAsync();
        await WaitForBalanceAsync(cluster, workers, silos, "after a silo joined");
    }

    [Fact]
    public async Task A_silo_that_runs_no_reactions_gets_no_worker()
    {
        // The third silo registers the journal with no workers (a different role): placement leaves it out.
        var configured = 0;
        await using var cluster = BuildCluster(workers: 4, silos: 3, configureSilo: silo =>
        {
            if (Interlocked.Increment(ref configured) == 3)
            {
                silo.Services.PostConfigure<PostgresJournalOptions>(TestClusters.Provider, o => o.Reactions.Workers = 0);
            }
        });
        await cluster.DeployAsync();
        var idle = cluster.Silos.Single(s => Options(s).Workers == 0);
        var running = cluster.Silos.Where(s => s != idle).ToList();

        await Eventually.WaitAsync(
            () => running.All(s => Reactions(s).LocalWorkers.Count == 2) && Reactions(idle).LocalWorkers.Count == 0,
            $"two workers on each of the silos with reactions, none on the other: {Workers(cluster)}");
        // A worker asked for from the idle silo (as a reminder delivered there would) is still placed on the others.
        await cluster.Client.GetGrain<IReactionWorkerGrain>($"{TestClusters.Provider}/0").EnsureStartedAsync();
        Assert.Empty(Reactions(idle).LocalWorkers);
        Assert.Equal(4, running.Sum(s => Reactions(s).LocalWorkers.Count));
    }

    [Fact]
    public async Task A_worker_asked_to_move_where_placement_does_not_send_it_keeps_running_where_it_is()
    {
        // Orleans' MigrateOnIdle deactivates first and asks placement after: a move to the silo the worker is on, or to
        // one its silo's placement does not name, would restart it there. Neither may touch the running worker.
        await using var cluster = BuildCluster(workers: 2, silos: 2);
        await cluster.DeployAsync();
        await WaitForBalanceAsync(cluster, 2, 2, "at start");
        var running = Holders(cluster);
        var workers = cluster.Silos.Select(s => (Silo: s, Worker: cluster.Client.GetGrain<IReactionWorkerGrain>(Reactions(s).LocalWorkers.Single()))).ToList();

        for (var round = 0; round < 10; round++)
        {
            foreach (var (silo, worker) in workers)
            {
                Assert.False(await worker.MoveToItsSiloAsync(silo.SiloAddress));
                Assert.False(await worker.MoveToItsSiloAsync(cluster.Silos.Single(s => s != silo).SiloAddress));
            }
        }

        // The same activations run (a restart would show as a new holder), and the supervisors' checks move nothing either.
        foreach (var silo in cluster.Silos)
        {
            await Supervisor(silo).CheckWorkersAsync();
        }

        Assert.Equal(running, Holders(cluster));
    }

    /// <summary>Waits until the live silos run every worker exactly once, each ⌊N/n⌋ or ⌈N/n⌉ of them.</summary>
    private static Task WaitForBalanceAsync(InProcessTestCluster cluster, int workers, int silos, string when)
        => Eventually.WaitAsync(
            () =>
            {
                var local = cluster.Silos.Select(s => Reactions(s).LocalWorkers).ToList();
                return local.Count == silos
                       && local.Sum(w => w.Count) == workers
                       && local.SelectMany(w => w).Distinct().Count() == workers
                       && local.All(w => w.Count >= workers / silos && w.Count <= (workers + silos - 1) / silos);
            },
            $"{workers} workers spread over {silos} silos {when}: {Workers(cluster)}");

    private InProcessTestCluster BuildCluster(int workers, short silos, Action<ISiloBuilder>? configureSilo = null)
    {
        var effects = $"\"{_schema.Name}\".effects";
        return TestClusters.Build(
            _schema.ConnectionString,
            _schema.Name,
            silos,
            configure: options =>
            {
                options.Reactions.Workers = workers;
                options.Reactions.WorkerCheckInterval = TimeSpan.FromSeconds(1);
                options.Reactions.Worker.LeaseDuration = TimeSpan.FromSeconds(3);
                options.Reactions.Worker.PollInterval = TimeSpan.FromMilliseconds(100);
                options.Reactions.Project(["Deposited"], async (batch, _, ct) =>
                {
                    await using var command = batch.CreateCommand(
                        $"INSERT INTO {effects} SELECT unnest(ARRAY[{string.Join(",", batch.Events.Select(e => e.Position))}]::bigint[])");
                    await command.ExecuteNonQueryAsync(ct);
                });
            },
            configureSilo: silo =>
            {
                silo.UseInMemoryReminderService()
                    .Configure<ClusterMembershipOptions>(o =>
                    {
                        o.ProbeTimeout = TimeSpan.FromSeconds(1);
                        o.NumMissedProbesLimit = 2;
                        o.NumVotesForDeathDeclaration = 1;
                    });
                configureSilo?.Invoke(silo);
            });
    }

    private Task<long> HandledAsync(long position)
        => _schema.ScalarAsync<long>($"SELECT count(*) FROM \"{_schema.Name}\".effects WHERE position = {position}");

    private static PostgresReactions Reactions(InProcessSiloHandle silo)
        => silo.ServiceProvider.GetRequiredKeyedService<PostgresReactions>(TestClusters.Provider);

    private static ReactionWorkerSupervisor Supervisor(InProcessSiloHandle silo)
        => silo.ServiceProvider.GetRequiredKeyedService<ReactionWorkerSupervisor>(TestClusters.Provider);

    /// <summary>The lease holders of the workers each silo runs (one per activation), silo by silo.</summary>
    private static List<string> Holders(InProcessTestCluster cluster)
        => cluster.Silos.Select(s => string.Join(", ", Reactions(s).LocalHolders.Order(StringComparer.Ordinal))).ToList();

    private static PostgresReactionOptions Options(InProcessSiloHandle silo)
        => silo.ServiceProvider.GetRequiredService<IOptionsMonitor<PostgresJournalOptions>>().Get(TestClusters.Provider).Reactions;

    /// <summary>Which workers each live silo runs, for failure messages.</summary>
    private static string Workers(InProcessTestCluster cluster)
        => string.Join("; ", cluster.Silos.Select(s => $"{s.SiloAddress} runs [{string.Join(", ", Reactions(s).LocalWorkers)}]"));
}
