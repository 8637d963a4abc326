using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.State;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Faults;

/// <summary>
/// Seeding over tables an older release created: the missing columns and indexes are added, every row is kept,
/// the result is the table a fresh seed makes, and seeding again changes nothing.
/// </summary>
public sealed class OlderSchemaSeedTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    [Fact]
    public async Task An_events_table_without_ids_correlation_and_causation_is_upgraded_keeping_its_events()
    {
        var t = $"\"{db.Name}\".old_events";
        await db.Schema.ExecuteAsync($$"""
            CREATE TABLE {{t}} (position bigint NOT NULL PRIMARY KEY, stream text NOT NULL, version bigint NOT NULL,
                name text NOT NULL, data jsonb NOT NULL, snapshot boolean NOT NULL DEFAULT false,
                created timestamptz NOT NULL DEFAULT now());
            CREATE UNIQUE INDEX old_events_stream_version ON {{t}} (stream, version, snapshot);
            INSERT INTO {{t}} (position, stream, version, name, data) VALUES
                (1, 'a', 0, 'Opened', '{"n": 0}'), (2, 'a', 1, 'Deposited', '{"n": 1}'), (3, 'b', 0, 'Opened', '{"n": 2}');
            """);
        var rows = await CoreRowsAsync();

        await using var store = await db.JournalAsync("old_events");
        await using (await db.JournalAsync("fresh_events"))
        {
        }

        Assert.Equal(rows, await CoreRowsAsync());
        Assert.Equal(await TableShape.DescribeAsync(db.Schema, "fresh_events"), await TableShape.DescribeAsync(db.Schema, "old_events"));

        // It works like a new table: versions continue, ids make retries idempotent, correlation is indexed and queryable.
        var retry = new[] { Events.Make(id: Guid.NewGuid()) };
        var appended = await store.CommitAsync("a", retry, new EventMetadata("corr-1"), expectedVersion: 1);
        Assert.Equal(2, appended.Single().Version);
        Assert.Equal(appended.Single().Position, (await store.CommitAsync("a", retry)).Single().Position);
        Assert.Equal([0L, 1, 2], (await store.LoadAsync("a").ToListAsync()).Select(e => e.Version));
        Assert.Single(await store.QueryAsync(new JournalQuery { CorrelationId = "corr-1" }).ToListAsync());

        await AssertSeedChangesNothingAsync("old_events", "position", store.SeedAsync);
        Assert.Equal(4, await db.CountAsync("old_events"));
    }

    [Fact]
    public async Task A_state_table_without_updated_at_is_upgraded_keeping_its_states()
    {
        await db.Schema.ExecuteAsync($$"""
            CREATE TABLE "{{db.Name}}".old_state (persistence_id text NOT NULL PRIMARY KEY,
                revision bigint NOT NULL CHECK (revision > 0), state jsonb NOT NULL);
            INSERT INTO "{{db.Name}}".old_state VALUES ('p', 3, '{"v": 3}'), ('q', 1, '{"v": 1}');
            """);

        await using var store = await db.StateAsync("old_state");
        await using (await db.StateAsync("fresh_state"))
        {
        }

        Assert.Equal(await TableShape.DescribeAsync(db.Schema, "fresh_state"), await TableShape.DescribeAsync(db.Schema, "old_state"));
        var p = await store.LoadAsync("p");
        Assert.Equal((3L, """{"v": 3}"""), (p!.Revision, p.Json));
        Assert.Equal(4, await store.UpsertAsync("p", 3, """{"v": 4}"""));
        Assert.Equal(1, (await store.LoadAsync("q"))!.Revision);

        await AssertSeedChangesNothingAsync("old_state", "persistence_id", store.SeedAsync);
    }

    [Fact]
    public async Task A_subscriptions_table_without_priority_lane_and_due_is_upgraded_keeping_its_watermarks()
    {
        await db.Schema.ExecuteAsync($$"""
            CREATE TABLE "{{db.Name}}".old_subs (stream text NOT NULL PRIMARY KEY, source text,
                at bigint NOT NULL DEFAULT -1, work bigint NOT NULL DEFAULT -1, retry bigint NOT NULL DEFAULT -1,
                blocked boolean NOT NULL DEFAULT false, error text, leased_by text, leased_until timestamptz);
            INSERT INTO "{{db.Name}}".old_subs (stream, source, at, work) VALUES ('behind', 'behind', 5, 10), ('done', 'done', 10, 10);
            """);

        await using var store = await db.LeasesAsync("old_subs");
        await using (await db.LeasesAsync("fresh_subs"))
        {
        }

        Assert.Equal(await TableShape.DescribeAsync(db.Schema, "fresh_subs"), await TableShape.DescribeAsync(db.Schema, "old_subs"));
        var lease = Assert.Single(await store.ClaimAsync(4, 0, "h", TimeSpan.FromMinutes(1)));
        Assert.Equal(("behind", 5L, 10L, 0L), (lease.Stream, lease.At, lease.Work, lease.Retry));
        Assert.Single((await store.AckAsync([new LeaseOutcome("behind", "h", 10)])).Applied);

        await AssertSeedChangesNothingAsync("old_subs", "stream", store.SeedAsync);
    }

    [Fact]
    public async Task Seeding_an_up_to_date_table_does_not_wait_for_a_long_running_reader()
    {
        await using var store = await db.JournalAsync("busy_events", o => o.CommandTimeout = TimeSpan.FromSeconds(1));
        await store.CommitAsync("s", Events.Many(2));

        // A report holds a read lock on the table for as long as its transaction runs. An unconditional
        // ALTER TABLE would queue behind it (and block every commit queued behind itself) until the timeout.
        await using var reader = await db.Schema.DataSource.OpenConnectionAsync();
        await using var report = await reader.BeginTransactionAsync();
        await using (var select = new Npgsql.NpgsqlCommand($"SELECT count(*) FROM \"{db.Name}\".busy_events", reader, report))
        {
            await select.ExecuteScalarAsync();
        }

        await store.SeedAsync();
        await report.CommitAsync();
        Assert.Equal(2, await db.CountAsync("busy_events"));
    }

    private Task<string> CoreRowsAsync() => db.Schema.ScalarAsync<string>(
        $"SELECT string_agg(format('%s %s %s %s %s %s %s', position, stream, version, name, data, snapshot, created), E'\\n' ORDER BY position) FROM \"{db.Name}\".old_events")!;

    private async Task AssertSeedChangesNothingAsync(string table, string key, Func<CancellationToken, Task> seed)
    {
        var shape = await TableShape.DescribeAsync(db.Schema, table);
        var rows = await TableShape.RowsAsync(db.Schema, table, key);

        await seed(default);
        await seed(default);

        Assert.Equal(shape, await TableShape.DescribeAsync(db.Schema, table));
        Assert.Equal(rows, await TableShape.RowsAsync(db.Schema, table, key));
    }
}
