using Npgsql;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.Reactions;
using OrleansPgStore.Store.Tests.Support;
using OrleansPgStore.TestSupport;

namespace OrleansPgStore.Store.Tests;

/// <summary>
/// The front door: built once from a connection string or a data source, it checks its settings, owns the pools it
/// builds (never one it was given), seeds its tables, and hands out the journal, the state and reaction workers.
/// </summary>
public sealed class PgStoreTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    public static TheoryData<string, string> WrongSettings => new()
    {
        { "PgStoreOptions.Schema", "schema=" },
        { "PgStoreOptions.Schema", "schema=1bank" },
        { "PgStoreOptions.EventsTable", "events=" },
        { "PgStoreOptions.EventsTable", "events=ev\"ents" },
        { "PgStoreOptions.StateTable", "state=state;drop" },
        { "PgStoreOptions.SubscriptionsTable", "subscriptions=" + new string('s', 64) },
        { "PgStoreOptions.CommandTimeout", "timeout=0" },
        { "PgStoreOptions.CommandTimeout", "timeout=-1" },
        { "PgStoreOptions.PageSize", "page=0" },
        { "PgStoreOptions.FeedSettleTimeout", "settle=-1" },
        { "PgStoreOptions.WarmReadConnections", "warm=-1" },
    };

    [Theory]
    [MemberData(nameof(WrongSettings))]
    public void Build_refuses_a_wrong_setting_by_name(string setting, string change)
    {
        var error = Assert.Throws<ArgumentException>(() => new PgStoreBuilder(db.ConnectionString).Configure(o => Apply(o, change)).Build());
        Assert.Contains(setting, error.Message);
    }

    [Fact]
    public void Build_names_every_wrong_setting_at_once_and_accepts_the_defaults()
    {
        var error = Assert.Throws<ArgumentException>(() => new PgStoreBuilder(db.ConnectionString)
            .Configure(o => Apply(o, "schema="))
            .Configure(o => Apply(o, "timeout=0"))
            .Build());
        Assert.Contains("PgStoreOptions.Schema", error.Message);
        Assert.Contains("PgStoreOptions.CommandTimeout", error.Message);

        // Negative control: the defaults, and every setting changed to a usable value, build.
        using var defaults = new PgStoreBuilder(db.ConnectionString).Build();
        using var changed = PgStore.Create(db.ConnectionString, o =>
        {
            o.Schema = "bank";
            o.EventsTable = "e";
            o.StateTable = "s";
            o.SubscriptionsTable = "t";
            o.CommandTimeout = TimeSpan.FromSeconds(1);
            o.PageSize = 1;
            o.FeedSettleTimeout = TimeSpan.Zero;
            o.WarmReadConnections = 0;
        });
    }

    [Fact]
    public async Task Seed_creates_the_tables_and_the_stores_work_on_them()
    {
        await using var store = PgStore.Create(db.ConnectionString, o => Tables(o, "seeded"));
        Assert.All(await store.Admin.TablesAsync(), t => Assert.False(t.Exists));

        await store.SeedAsync();
        await store.SeedAsync();   // idempotent

        Assert.Equal(["events", "state", "subs", "checkpoints"], (await store.Admin.TablesAsync()).Where(t => t.Exists).Select(t => t.Name.Split('.')[1].Split('_')[^1]));
        var committed = await store.Journal.CommitAsync("account/1", [new EventData("Deposited", """{"amount":10}""")], expectedVersion: -1);
        Assert.Equal(0, Assert.Single(committed).Version);
        Assert.Equal(1, await store.States.UpsertAsync("cart/1", 0, """{"items":[]}"""));
        Assert.Equal(1, (await store.States.LoadAsync("cart/1"))!.Revision);
    }

    [Fact]
    public async Task SchemaSql_creates_the_tables_seeding_would_and_names_a_wrong_setting()
    {
        await using var store = PgStore.Create(db.ConnectionString, o => Tables(o, "bydba"));
        await db.Schema.ExecuteAsync(PgStore.SchemaSql(o => Tables(o, "bydba")));

        Assert.All(await store.Admin.TablesAsync(), t => Assert.True(t.Exists, t.Name));
        await store.SeedAsync();   // finds everything in place
        Assert.Equal(0, Assert.Single(await store.Journal.CommitAsync("s", [new EventData("E", "{}")])).Version);

        // Negative control: a setting the builder refuses is refused here too, by name.
        var error = Assert.Throws<ArgumentException>(() => PgStore.SchemaSql(o => o.StateTable = "state table"));
        Assert.Contains("PgStoreOptions.StateTable", error.Message);
    }

    [Fact]
    public async Task A_data_source_given_to_the_builder_stays_open_and_one_the_store_built_is_disposed_with_it()
    {
        await using var shared = NpgsqlDataSource.Create(db.ConnectionString);
        var borrowing = new PgStoreBuilder(shared).Configure(o => Tables(o, "borrowed")).Build();
        Assert.Same(shared, borrowing.DataSource);
        await borrowing.DisposeAsync();
        await using (var command = shared.CreateCommand("SELECT 1"))
        {
            Assert.Equal(1, await command.ExecuteScalarAsync());
        }

        // Negative control: the pool a store builds from a connection string goes with the store.
        var owning = PgStore.Create(db.ConnectionString, o => Tables(o, "owned"));
        var own = owning.DataSource;
        await owning.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await own.OpenConnectionAsync());
    }

    [Fact]
    public async Task A_reaction_worker_from_the_store_handles_every_event_and_a_rebuild_replays_them()
    {
        await using var store = PgStore.Create(db.ConnectionString, o => Tables(o, "reacting"));
        await store.SeedAsync();
        var handled = new System.Collections.Concurrent.ConcurrentBag<long>();
        var registry = new ReactionRegistry().On("Ticked", (e, _) =>
        {
            handled.Add(e.Position);
            return Task.CompletedTask;
        });
        var options = new ReactionOptions { PollInterval = TimeSpan.FromMilliseconds(50) };

        var committed = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            committed.AddRange((await store.Journal.CommitAsync($"clock/{i % 2}", [new EventData("Ticked", "{}")])).Select(e => e.Position));
        }

        await using (var worker = store.CreateReactionWorker(registry, options))
        {
            await worker.StartAsync();
            await Eventually.WaitAsync(() => handled.Count >= committed.Count, "the worker handled every event");
        }

        Assert.Equal(committed.Order(), handled.Order());

        var rebuilt = await store.RebuildAsync(registry, new SubscriptionFilter { Lane = "" }, options: options);
        Assert.Equal(new RebuildProgress(committed.Count, committed.Count, 2), rebuilt);
        Assert.Equal(committed.Concat(committed).Order(), handled.Order());
    }

    private void Tables(PgStoreOptions options, string prefix)
    {
        options.Schema = db.Name;
        options.EventsTable = prefix + "_events";
        options.StateTable = prefix + "_state";
        options.SubscriptionsTable = prefix + "_subs";
    }

    private static void Apply(PgStoreOptions options, string change)
    {
        var (key, value) = (change.Split('=', 2)[0], change.Split('=', 2)[1]);
        switch (key)
        {
            case "schema": options.Schema = value; break;
            case "events": options.EventsTable = value; break;
            case "state": options.StateTable = value; break;
            case "subscriptions": options.SubscriptionsTable = value; break;
            case "timeout": options.CommandTimeout = TimeSpan.FromSeconds(int.Parse(value)); break;
            case "page": options.PageSize = int.Parse(value); break;
            case "settle": options.FeedSettleTimeout = TimeSpan.FromSeconds(int.Parse(value)); break;
            case "warm": options.WarmReadConnections = int.Parse(value); break;
            default: throw new ArgumentException(change);
        }
    }
}
