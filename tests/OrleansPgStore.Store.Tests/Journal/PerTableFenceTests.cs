using System.Collections.Concurrent;
using Npgsql;
using OrleansPgStore.Store.Errors;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Reactions;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Journal;

/// <summary>
/// The settled feed is fenced on appends to its own events table only: a write transaction held open anywhere else
/// (another table, another database: a batch job) holds back neither the feed, nor a global query, nor a reaction;
/// an append in flight to the table itself still does (the no-skip control), and a query it holds back too long fails
/// naming it instead of returning short.
/// </summary>
public sealed class PerTableFenceTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    public static TheoryData<string> Elsewhere() => ["another database", "another table"];

    private Task<UnrelatedTransaction> OpenUnrelatedAsync(string where) => where == "another database"
        ? UnrelatedTransaction.InAnotherDatabaseAsync(db.ConnectionString)
        : UnrelatedTransaction.OnAnotherTableAsync(db.ConnectionString, db.Name);

    [Theory]
    [MemberData(nameof(Elsewhere))]
    public async Task A_write_transaction_held_open_elsewhere_holds_back_neither_the_feed_nor_a_global_query(string where)
    {
        await using var store = await db.JournalAsync($"fence_{where.Replace(' ', '_')}");
        await using var unrelated = await OpenUnrelatedAsync(where);
        var committed = new List<long>();
        for (var i = 0; i < 20; i++)
        {
            committed.AddRange((await store.CommitAsync($"account-{i % 3}", Events.Many(i % 4 == 0 ? 2 : 1))).Select(e => e.Position));
        }

        // Every event above sits behind the open transaction in the server's snapshot: a server-wide fence would
        // return none of them.
        Assert.True(await unrelated.HoldsTheServerXminAsync(db.Schema.DataSource));
        var queried = await store.QueryAsync(new JournalQuery { After = 0 }).ToListAsync();
        var correlated = await store.QueryAsync(new JournalQuery { CorrelationId = "none", After = 0 }).ToListAsync();
        var page = await store.ReadFeedAsync(0, 1000);

        Assert.Equal(committed, queried.Select(e => e.Position));
        Assert.Empty(correlated);
        Assert.Equal(committed, page.Events.Select(e => e.Position));
        Assert.False(page.HasMore);
        Assert.True(page.SettledUpTo >= committed[^1]);
        Assert.Equal(page.SettledUpTo, page.ContinueAfter);
        Assert.True(await unrelated.HoldsTheServerXminAsync(db.Schema.DataSource), "the transaction stayed open throughout");
    }

    [Fact]
    public async Task A_reaction_keeps_handling_new_events_while_a_write_transaction_stays_open_in_another_database()
    {
        await using var journal = await db.JournalAsync("fence_reaction");
        await using var leases = await db.LeasesAsync("fence_reaction_subscriptions");
        var handled = new ConcurrentQueue<long>();
        var registry = new ReactionRegistry().On("Happened", (e, _) =>
        {
            handled.Enqueue(e.Position);
            return Task.CompletedTask;
        });
        await using var worker = new ReactionWorker(
            new ReactionLoop(journal, leases, registry, new ReactionOptions { PollInterval = TimeSpan.FromMilliseconds(50) }), journal);
        await worker.StartAsync();
        await using var unrelated = await OpenUnrelatedAsync("another database");

        // Round after round while the transaction stays open: each is handled before the next is committed, so a
        // reaction fenced on the server's oldest transaction would wait here until the patience runs out.
        var committed = new List<long>();
        for (var round = 0; round < 3; round++)
        {
            committed.AddRange((await journal.CommitAsync($"order-{round}", Events.Many(5))).Select(e => e.Position));
            await Eventually.WaitAsync(() => handled.Count == committed.Count, $"round {round} is handled while the transaction is open");
        }

        Assert.True(await unrelated.HoldsTheServerXminAsync(db.Schema.DataSource), "the transaction stayed open throughout");
        Assert.Equal(committed, handled.Order());
    }

    [Fact]
    public async Task An_append_in_flight_to_the_table_holds_the_feed_back_and_a_query_it_holds_too_long_names_it()
    {
        // The negative control: the fence is not simply gone. An append whose transaction is still open (held inside its
        // INSERT by a trigger) keeps later, already visible events out of the feed, and a query that waits for it in
        // vain fails, naming the append's server process, rather than returning short.
        await using var store = await db.JournalAsync("fence_inflight", o => o.FeedSettleTimeout = TimeSpan.FromMilliseconds(200));
        const int lockKey = 7411;
        await db.Schema.ExecuteAsync($"""
            CREATE FUNCTION "{db.Name}".hold_inflight() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.stream = 'slow' THEN
                    PERFORM pg_advisory_lock({lockKey});
                    PERFORM pg_advisory_unlock({lockKey});
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER hold_inflight BEFORE INSERT ON "{db.Name}".fence_inflight FOR EACH ROW EXECUTE FUNCTION "{db.Name}".hold_inflight();
            """);
        var before = (await store.CommitAsync("early", [Events.Make()]))[0];

        await using var gate = await db.Schema.DataSource.OpenConnectionAsync();
        await ExecuteAsync(gate, $"SELECT pg_advisory_lock({lockKey})");
        var slow = Task.Run(() => store.CommitAsync("slow", [Events.Make("Slow")]));
        int slowPid = 0;
        await Eventually.WaitAsync(async () => (slowPid = await db.Schema.ScalarAsync<int>(
            $"SELECT coalesce(max(pid), 0) FROM pg_locks WHERE locktype = 'advisory' AND objid = {lockKey} AND NOT granted")) != 0,
            "the slow append waits inside its INSERT");
        var fast = (await store.CommitAsync("fast", [Events.Make()]))[0];

        var page = await store.ReadFeedAsync(0, 100);
        var error = await Assert.ThrowsAsync<FeedNotSettledException>(() => store.QueryAsync(new JournalQuery { After = 0 }).ToListAsync());
        var database = await db.Schema.ScalarAsync<string>("SELECT current_database()");

        await ExecuteAsync(gate, $"SELECT pg_advisory_unlock({lockKey})");
        var slowEvent = (await slow)[0];
        var afterwards = await store.QueryAsync(new JournalQuery { After = 0 }).ToListAsync();

        Assert.Equal([before.Position], page.Events.Select(e => e.Position));
        Assert.True(page.HasMore);
        Assert.True(page.ContinueAfter < slowEvent.Position);
        Assert.Equal(fast.Position, error.HeldBackAt);
        Assert.Equal(slowPid, error.Pid);
        Assert.Equal(database, error.Database);
        Assert.NotNull(error.TransactionAge);
        Assert.True(error.IsTransient);
        Assert.Contains($"pid {slowPid}", error.Message);
        Assert.Equal([before.Position, slowEvent.Position, fast.Position], afterwards.Select(e => e.Position));
    }

    [Fact]
    public async Task In_every_picture_of_the_lock_table_an_appender_holding_its_id_holds_the_append_lock_under_its_pid()
    {
        // The fence's premise, checked directly: while 16 writers commit, many single pictures of pg_locks (one
        // materialized read, as the fence takes it) never show an appender's transaction id lock without the table's
        // append lock held by the same server process. The negative control shows why the match is by pid: matched by
        // virtual transaction id, a committing appender soon shows up without its append lock (pg_locks reads that id
        // live from the process, which clears it before releasing its locks), and the fence would have passed it.
        var application = $"appender-{Guid.NewGuid():N}"[..24];
        await using var store = await db.JournalAsync("fence_picture", o => o.ConnectionString = $"{db.ConnectionString};Application Name={application}");
        using var stop = new CancellationTokenSource();
        var writing = Task.WhenAll(Enumerable.Range(0, 16).Select(w => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await store.CommitAsync($"writer-{w}", Events.Many(1 + w % 3));
            }
        })));

        var picture = $"""
            WITH l AS MATERIALIZED (
                SELECT locktype, pid, virtualtransaction, classid, objid, objsubid, mode, granted
                FROM pg_locks WHERE locktype IN ('transactionid', 'advisory')
            ), appending AS (
                SELECT * FROM l WHERE locktype = 'transactionid' AND mode = 'ExclusiveLock' AND granted
                  AND pid IN (SELECT pid FROM pg_stat_activity WHERE application_name = @application)
            ), append_lock AS (
                SELECT * FROM l WHERE locktype = 'advisory' AND classid = {JournalSql.AppendLockClass}::oid
                  AND objid = '"{db.Name}".fence_picture'::regclass::oid AND objsubid = 2
            )
            SELECT (SELECT count(*) FROM appending x WHERE NOT EXISTS (SELECT 1 FROM append_lock a WHERE a.pid = x.pid)),
                   (SELECT count(*) FROM appending x WHERE NOT EXISTS (SELECT 1 FROM append_lock a WHERE a.virtualtransaction = x.virtualtransaction)),
                   (SELECT count(*) FROM appending)
            """;
        long pictures = 0, appendersSeen = 0, missingByPid = 0, missingByVirtualId = 0;
        await using (var connection = await db.Schema.DataSource.OpenConnectionAsync())
        {
            await using var command = new NpgsqlCommand(picture, connection) { Parameters = { new("application", application) } };
            await Eventually.WaitAsync(async () =>
            {
                await using var reader = await command.ExecuteReaderAsync();
                await reader.ReadAsync();
                missingByPid += reader.GetInt64(0);
                missingByVirtualId += reader.GetInt64(1);
                appendersSeen += reader.GetInt64(2);
                return ++pictures >= 2000 && missingByVirtualId > 0;
            }, "a picture shows an appender's locks under two virtual transaction ids (the negative control)", pollEvery: TimeSpan.Zero);
        }

        await stop.CancelAsync();
        await writing;
        Assert.True(appendersSeen > 0, "the pictures caught appenders holding their ids");
        Assert.Equal(0, missingByPid);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
