using Npgsql;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.State;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Faults;

/// <summary>
/// Many processes (each its own store instances and pool) seeding the same schema at the same moment, as silos do
/// when a cluster boots: all succeed, each table exists once, and no row is lost.
/// </summary>
public sealed class ConcurrentSeedTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    private const int Processes = 8;

    [Fact]
    public async Task Eight_processes_seeding_journal_state_and_leases_in_one_new_schema_at_once_all_succeed()
    {
        var schema = db.Name + "_boot";
        var processes = Enumerable.Range(0, Processes).Select(_ => new Process(db.ConnectionString, schema)).ToList();
        try
        {
            for (var round = 0; round < 3; round++)
            {
                await AllAtOnceAsync(processes.SelectMany(p => new Func<Task>[] { () => p.Journal.SeedAsync(), () => p.State.SeedAsync(), () => p.Leases.SeedAsync() }));
            }

            await Task.WhenAll(processes.Select(async (p, i) =>
            {
                await p.Journal.CommitAsync($"s{i}", Events.Many(2));
                await p.State.UpsertAsync($"p{i}", 0, "{}");
                await p.Leases.SubscribeAsync([new Subscription($"t{i}")]);
            }));

            Assert.Equal(3 + 2, await db.Schema.ScalarAsync<long>("SELECT count(*) FROM pg_tables WHERE schemaname = @s", ("s", schema))); // + the positions and checkpoints tables
            Assert.Equal(5 + 1 + 2 + 1 + 1 + 1 + 1, await db.Schema.ScalarAsync<long>("SELECT count(*) FROM pg_indexes WHERE schemaname = @s", ("s", schema)));
            Assert.Equal(2 * Processes, await db.Schema.ScalarAsync<long>($"SELECT count(*) FROM \"{schema}\".events"));
            Assert.Equal(Processes, await db.Schema.ScalarAsync<long>($"SELECT count(*) FROM \"{schema}\".durable_state"));
            Assert.Equal(Processes, await db.Schema.ScalarAsync<long>($"SELECT count(*) FROM \"{schema}\".subscriptions"));
        }
        finally
        {
            foreach (var p in processes)
            {
                await p.DisposeAsync();
            }

            await db.Schema.ExecuteAsync($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
        }
    }

    [Fact]
    public async Task Eight_processes_upgrading_an_older_table_at_once_add_each_column_once_and_keep_every_row()
    {
        var t = $"\"{db.Name}\".boot_old";
        await db.Schema.ExecuteAsync($$"""
            CREATE TABLE {{t}} (position bigint NOT NULL PRIMARY KEY, stream text NOT NULL, version bigint NOT NULL,
                name text NOT NULL, data jsonb NOT NULL, snapshot boolean NOT NULL DEFAULT false);
            INSERT INTO {{t}} (position, stream, version, name, data)
                SELECT n, 's' || (n % 10), n / 10, 'Happened', jsonb_build_object('n', n) FROM generate_series(0, 999) n;
            """);
        var rows = await db.Schema.ScalarAsync<string>(
            $"SELECT string_agg(format('%s %s %s %s %s', position, stream, version, name, data), E'\\n' ORDER BY position) FROM {t}");
        var stores = Enumerable.Range(0, Processes).Select(_ => new JournalStore(db.JournalOptions("boot_old"))).ToList();
        try
        {
            await AllAtOnceAsync(stores.Select(s => (Func<Task>)(() => s.SeedAsync())));
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }

        await using (await db.JournalAsync("boot_fresh"))
        {
        }

        Assert.Equal(rows, await db.Schema.ScalarAsync<string>(
            $"SELECT string_agg(format('%s %s %s %s %s', position, stream, version, name, data), E'\\n' ORDER BY position) FROM {t}"));
        Assert.Equal(await TableShape.DescribeAsync(db.Schema, "boot_fresh"), await TableShape.DescribeAsync(db.Schema, "boot_old"));
    }

    [Fact]
    public async Task Seeds_running_while_other_processes_commit_lose_no_commit()
    {
        await using var seeded = await db.JournalAsync("boot_busy");
        var writers = Enumerable.Range(0, 4).Select(_ => new JournalStore(db.JournalOptions("boot_busy"))).ToList();
        var seeders = Enumerable.Range(0, 4).Select(_ => new JournalStore(db.JournalOptions("boot_busy"))).ToList();
        try
        {
            var writing = writers.Select((w, i) => Task.Run(async () =>
            {
                for (var n = 0; n < 25; n++)
                {
                    await w.CommitAsync($"w{i}", [Events.Make(value: n)], expectedVersion: n - 1);
                }
            }));
            var seeding = seeders.Select(s => Task.Run(async () =>
            {
                for (var n = 0; n < 5; n++)
                {
                    await s.SeedAsync();
                }
            }));
            await Task.WhenAll(writing.Concat(seeding));
        }
        finally
        {
            foreach (var store in writers.Concat(seeders))
            {
                await store.DisposeAsync();
            }
        }

        Assert.Equal(100, await db.CountAsync("boot_busy"));
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(Enumerable.Range(0, 25).Select(v => (long)v), (await seeded.LoadAsync($"w{i}").ToListAsync()).Select(e => e.Version));
        }
    }

    /// <summary>Starts every call at the same moment, each on its own thread-pool task.</summary>
    private static async Task AllAtOnceAsync(IEnumerable<Func<Task>> calls)
    {
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = calls.Select(call => Task.Run(async () =>
        {
            await go.Task;
            await call();
        })).ToList();
        go.SetResult();
        await Task.WhenAll(running);
    }

    /// <summary>One simulated process: its own pool and its own store instances.</summary>
    private sealed class Process : IAsyncDisposable
    {
        private readonly NpgsqlDataSource _dataSource;

        public Process(string connectionString, string schema)
        {
            _dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = 4 }.ConnectionString);
            Journal = new JournalStore(new JournalStoreOptions { DataSource = _dataSource, Schema = schema });
            State = new DurableStateStore(new DurableStateStoreOptions { DataSource = _dataSource, Schema = schema });
            Leases = new LeaseStore(new LeaseStoreOptions { DataSource = _dataSource, Schema = schema });
        }

        public JournalStore Journal { get; }

        public DurableStateStore State { get; }

        public LeaseStore Leases { get; }

        public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
    }
}
