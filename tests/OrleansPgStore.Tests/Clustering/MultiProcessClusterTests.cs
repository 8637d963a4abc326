using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Testing;

namespace OrleansPgStore.Tests.Clustering;

/// <summary>
/// A real cluster: three silo processes (tests/OrleansPgStore.ClusterSilo) wired with <c>UseOrleansPgStore</c> only,
/// from an empty schema. One is killed with SIGKILL while it holds a reaction lease; the survivors declare it dead in
/// the membership table, its reminders fire on a survivor, its leases are released, the projection completes, and the
/// silo restarts and rejoins. Times are written to the test output, never asserted.
/// </summary>
public sealed class MultiProcessClusterTests(ITestOutputHelper output)
{
    private const int Tickers = 2;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Three_silo_processes_survive_a_kill_9_and_the_killed_silo_rejoins()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("multiprocess");
        var s = $"\"{schema.Name}\"";
        // The test's own tables (see TestTables in the silo project); the silos create all of OrleansPgStore's.
        await schema.ExecuteAsync($"""
            CREATE TABLE {s}.ticks (grain text NOT NULL, silo text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
            CREATE TABLE {s}.model (position bigint NOT NULL, stream text NOT NULL, silo text NOT NULL);
            CREATE TABLE {s}.stall (target text PRIMARY KEY, silo text NOT NULL);
            """);
        var cluster = "mp-" + Guid.NewGuid().ToString("N")[..8];
        var log = new ConcurrentQueue<string>();
        var silos = new Dictionary<string, SiloChildProcess>();
        var passed = false;
        try
        {
            // Three silos from an empty schema, started together.
            var started = Stopwatch.StartNew();
            foreach (var name in new[] { "s1", "s2", "s3" })
            {
                silos[name] = StartSilo(name, schema, cluster, log, tickers: Tickers);
            }

            await Task.WhenAll(silos.Values.Select(silo => silo.WaitReadyAsync(TimeSpan.FromMinutes(2))));
            await WaitAsync(async () => await ActiveAsync(schema, cluster) == 3, "three silos are Active in the membership table");
            output.WriteLine($"3 silo processes started on an empty schema and Active in {started.Elapsed.TotalSeconds:0.0} s");

            // Every silo's tickers ran there (each silo started its own, placed locally).
            await WaitAsync(async () => await schema.ScalarAsync<long>($"SELECT count(DISTINCT silo) FROM {s}.ticks") == 3, "every silo delivered reminder ticks");

            // Events for the projection; one of them is held by the first silo that gets it, until that silo dies.
            await using var journal = new JournalStore(new JournalStoreOptions { DataSource = schema.DataSource, Schema = schema.Name, NotifyOnCommit = true });
            var committed = await CommitAsync(journal, "before", streams: 10, perStream: 5);
            await journal.CommitAsync("stall", [new EventData("Stall", "{}")]);
            committed += 1;
            await WaitAsync(async () => await schema.ScalarAsync<string>($"SELECT silo FROM {s}.stall") is not null, "a silo holds the stall event's lease");
            var victim = silos[(await schema.ScalarAsync<string>($"SELECT silo FROM {s}.stall"))!];
            var holderPrefix = victim.Address + "/";
            Assert.True(await HeldLeasesAsync(schema, holderPrefix) > 0, $"{victim.Name} holds the stall event's lease before the kill");

            // kill -9 the silo holding the lease.
            victim.Kill();
            var killed = Stopwatch.StartNew();
            var killedAt = await schema.ScalarAsync<DateTime>("SELECT clock_timestamp()");
            output.WriteLine($"killed {victim.Name} ({victim.Address}), holding the lease of the stall event");
            committed += await CommitAsync(journal, "after", streams: 10, perStream: 5);

            var dead = WaitTimedAsync(killed, async () => await schema.ScalarAsync<int>(
                    $"SELECT status FROM {s}.orleans_membership WHERE cluster_id = @c AND silo_name = @n AND port = @p",
                    ("c", cluster), ("n", victim.Name), ("p", Port(victim.Address))) == (int)SiloStatus.Dead,
                $"{victim.Name}'s membership row is Dead");
            var reminders = WaitTimedAsync(killed, async () => await schema.ScalarAsync<long>(
                    $"SELECT count(DISTINCT grain) FROM {s}.ticks WHERE grain LIKE @g AND silo <> @n AND at > @k",
                    ("g", victim.Name + "-%"), ("n", victim.Name), ("k", killedAt)) == Tickers,
                $"every reminder of {victim.Name}'s grains fired on a survivor");
            var firstReminder = WaitTimedAsync(killed, async () => await schema.ScalarAsync<long>(
                    $"SELECT count(*) FROM {s}.ticks WHERE grain LIKE @g AND silo <> @n AND at > @k",
                    ("g", victim.Name + "-%"), ("n", victim.Name), ("k", killedAt)) > 0,
                $"a reminder of {victim.Name}'s grains fired on a survivor");
            var released = WaitTimedAsync(killed, async () => await HeldLeasesAsync(schema, holderPrefix) == 0,
                $"no lease is held by {victim.Name}'s workers");
            var drained = WaitTimedAsync(killed, async () => await schema.ScalarAsync<long>($"SELECT count(*) FROM {s}.model") >= committed,
                "the projection has every event");
            await Task.WhenAll(dead, firstReminder, reminders, released, drained);
            output.WriteLine($"kill → {victim.Name} Dead in the membership table: {(await dead).TotalSeconds:0.0} s");
            output.WriteLine($"kill → first reminder tick of {victim.Name}'s grains on a survivor: {(await firstReminder).TotalSeconds:0.0} s");
            output.WriteLine($"kill → every reminder of {victim.Name}'s grains ticked on a survivor: {(await reminders).TotalSeconds:0.0} s");
            output.WriteLine($"kill → no lease held by {victim.Name}: {(await released).TotalSeconds:0.0} s");
            output.WriteLine($"kill → projection complete ({committed} events): {(await drained).TotalSeconds:0.0} s");

            // Exactly one row per event, the held one included (its holder's transaction died with it).
            Assert.Equal(committed, await schema.ScalarAsync<long>($"SELECT count(*) FROM {s}.model"));
            Assert.Equal(committed, await schema.ScalarAsync<long>($"SELECT count(DISTINCT position) FROM {s}.model"));
            Assert.NotEqual(victim.Name, await schema.ScalarAsync<string>($"SELECT silo FROM {s}.model WHERE stream = 'stall'"));

            // The killed silo restarts (new ports, as a replaced machine would) and rejoins.
            var restarted = Stopwatch.StartNew();
            await victim.DisposeAsync();
            silos[victim.Name] = StartSilo(victim.Name, schema, cluster, log, tickers: 0);
            await silos[victim.Name].WaitReadyAsync(TimeSpan.FromMinutes(2));
            await WaitAsync(async () => await schema.ScalarAsync<int>(
                    $"SELECT status FROM {s}.orleans_membership WHERE cluster_id = @c AND silo_name = @n AND port = @p",
                    ("c", cluster), ("n", victim.Name), ("p", Port(silos[victim.Name].Address))) == (int)SiloStatus.Active,
                $"the restarted {victim.Name} is Active");
            await WaitAsync(async () => await ActiveAsync(schema, cluster) == 3, "three silos are Active again");
            output.WriteLine($"restart → {victim.Name} Active again: {restarted.Elapsed.TotalSeconds:0.0} s");
            Assert.Equal(1L, await schema.ScalarAsync<long>(
                $"SELECT count(*) FROM {s}.orleans_membership WHERE cluster_id = @c AND silo_name = @n AND status = @d",
                ("c", cluster), ("n", victim.Name), ("d", (int)SiloStatus.Dead)));
            passed = true;
        }
        finally
        {
            foreach (var silo in silos.Values)
            {
                await silo.DisposeAsync();
            }

            // The silos' warnings and errors (all of their log on failure).
            foreach (var line in log.Where(l => !passed || l.Contains("fail:", StringComparison.Ordinal) || l.Contains("crit:", StringComparison.Ordinal)
                                                || l.Contains("Released", StringComparison.Ordinal) || l.Contains("holding", StringComparison.Ordinal)))
            {
                output.WriteLine(passed && line.Length > 300 ? line[..300] + " …" : line);
            }
        }
    }

    private static SiloChildProcess StartSilo(string name, PostgresTestSchema schema, string cluster, ConcurrentQueue<string> log, int tickers)
        => SiloChildProcess.Start(name, new Dictionary<string, string>
        {
            ["connection"] = schema.ConnectionString,
            ["schema"] = schema.Name,
            ["cluster"] = cluster,
            ["silo-port"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["gateway-port"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["tickers"] = tickers.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, log);

    private static async Task<long> CommitAsync(JournalStore journal, string prefix, int streams, int perStream)
    {
        for (var i = 0; i < streams; i++)
        {
            await journal.CommitAsync($"{prefix}-{i}", Enumerable.Range(0, perStream).Select(n => new EventData("Happened", $$"""{"n":{{n}}}""")).ToArray());
        }

        return (long)streams * perStream;
    }

    private static async Task<long> ActiveAsync(PostgresTestSchema schema, string cluster) => await schema.ScalarAsync<long>(
        $"SELECT count(*) FROM \"{schema.Name}\".orleans_membership WHERE cluster_id = @c AND status = @a", ("c", cluster), ("a", (int)SiloStatus.Active));

    /// <summary>Leases held now (unexpired) by workers whose holder name starts with <paramref name="prefix"/>.</summary>
    private static async Task<long> HeldLeasesAsync(PostgresTestSchema schema, string prefix) => await schema.ScalarAsync<long>(
        $"SELECT count(*) FROM \"{schema.Name}\".subscriptions WHERE left(leased_by, length(@p)) = @p AND leased_until > clock_timestamp()", ("p", prefix));

    private static int Port(string siloAddress) => SiloAddress.FromParsableString(siloAddress).Endpoint.Port;

    /// <summary>Polls <paramref name="condition"/> a few times a second (several run at once on a loaded machine).</summary>
    private static Task WaitAsync(Func<Task<bool>> condition, string what)
        => Eventually.WaitAsync(condition, what, Patience, pollEvery: TimeSpan.FromMilliseconds(200));

    /// <summary>Waits for <paramref name="condition"/> and returns how long after <paramref name="since"/> it held first.</summary>
    private static async Task<TimeSpan> WaitTimedAsync(Stopwatch since, Func<Task<bool>> condition, string what)
    {
        await WaitAsync(condition, what);
        return since.Elapsed;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
