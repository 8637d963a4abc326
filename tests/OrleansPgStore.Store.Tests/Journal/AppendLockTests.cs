using Npgsql;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Journal;

/// <summary>
/// The fence's premise (see JournalSql): every statement that gives rows positions takes the table's append lock
/// before its transaction has an id. Checked for each such statement by holding the lock exclusively: the statement
/// must be found waiting for it with no transaction id yet.
/// </summary>
public sealed class AppendLockTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    public static TheoryData<string> Writes() =>
        ["one event", "one event with an id", "a batch", "a batch with ids", "a snapshot", "a truncation"];

    [Theory]
    [MemberData(nameof(Writes))]
    public async Task A_write_takes_the_append_lock_before_its_transaction_has_an_id(string write)
    {
        var table = "append_lock_" + write.Replace(' ', '_');
        await using var store = await db.JournalAsync(table);
        await store.CommitAsync("s", Events.Many(2)); // something to snapshot and truncate
        var oid = await db.Schema.ScalarAsync<long>($"SELECT '\"{db.Name}\".\"{table}\"'::regclass::oid::bigint");

        await using var gate = await db.Schema.DataSource.OpenConnectionAsync();
        await ExecuteAsync(gate, $"SELECT pg_advisory_lock({JournalSql.AppendLockClass}, {oid}::oid::int)");
        var running = Task.Run(() => write switch
        {
            "one event" => store.CommitAsync("s", Events.Many(1)),
            "one event with an id" => store.CommitAsync("s", [Events.Make(id: Guid.NewGuid())]),
            "a batch" => store.CommitAsync("s", Events.Many(3)),
            "a batch with ids" => store.CommitAsync("s", [Events.Make(id: Guid.NewGuid()), Events.Make(id: Guid.NewGuid())]),
            "a snapshot" => store.SaveSnapshotAsync("s", 1, "{}").ContinueWith(t => (IReadOnlyList<RecordedEvent>)[t.Result]),
            _ => store.TruncateAsync("s").ContinueWith(t => (IReadOnlyList<RecordedEvent>)[t.Result!]),
        });

        var waiting = 0;
        await Eventually.WaitAsync(async () => (waiting = await db.Schema.ScalarAsync<int>($"""
            SELECT coalesce(max(pid), 0) FROM pg_locks
            WHERE locktype = 'advisory' AND classid = {JournalSql.AppendLockClass}::oid AND objid = {oid} AND objsubid = 2 AND NOT granted
            """)) != 0, $"{write} waits for the append lock");
        var xid = await db.Schema.ScalarAsync<object>($"SELECT backend_xid FROM pg_stat_activity WHERE pid = {waiting}");
        var xidLocks = await db.Schema.ScalarAsync<long>($"""
            SELECT count(*) FROM pg_locks x JOIN pg_locks a ON a.virtualtransaction = x.virtualtransaction
            WHERE a.pid = {waiting} AND a.locktype = 'advisory' AND x.locktype = 'transactionid'
            """);

        await ExecuteAsync(gate, $"SELECT pg_advisory_unlock({JournalSql.AppendLockClass}, {oid}::oid::int)");
        Assert.NotEmpty(await running);
        Assert.True(xid is null or DBNull, $"{write} had transaction id {xid} before it held the append lock");
        Assert.Equal(0, xidLocks);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
