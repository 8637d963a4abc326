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

    /// <remarks>
    /// The per-table fence is disabled (it skipped events in GlobalFeedTests' race): a write transaction held open
    /// anywhere on the server holds the feed back. What must still hold: never an answer short without saying so.
    /// </remarks>
    [Theory]
    [MemberData(nameof(Elsewhere))]
    public async Task A_write_transaction_held_open_elsewhere_never_makes_a_global_query_answer_short(string where)
    {
        await using var store = await db.JournalAsync($"fence_{where.Replace(' ', '_')}", o => o.FeedSettleTimeout = TimeSpan.FromMilliseconds(200));
        await using var unrelated = await OpenUnrelatedAsync(where);
        var committed = new List<long>();
        for (var i = 0; i < 20; i++)
        {
            committed.AddRange((await store.CommitAsync($"account-{i % 3}", Events.Many(i % 4 == 0 ? 2 : 1))).Select(e => e.Position));
        }

        Assert.True(await unrelated.HoldsTheServerXminAsync(db.Schema.DataSource));
        var error = await Assert.ThrowsAsync<FeedNotSettledException>(() => store.QueryAsync(new JournalQuery { After = 0 }).ToListAsync());
        Assert.True(error.IsTransient);
        var page = await store.ReadFeedAsync(0, 1000);
        Assert.Empty(page.Events);
        Assert.True(page.HasMore, "a page held back says there is more");
        Assert.True(page.SettledUpTo < committed[0]);
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

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
