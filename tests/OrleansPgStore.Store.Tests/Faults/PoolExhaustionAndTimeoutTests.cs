using Npgsql;
using OrleansPgStore.Store.Errors;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.State;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Faults;

/// <summary>
/// No call waits unboundedly: an exhausted pool fails after the connection string's Timeout, a statement after
/// <see cref="Connection.StoreOptions.CommandTimeout"/>, each with an error naming the operation, nothing written.
/// </summary>
public sealed class PoolExhaustionAndTimeoutTests(SchemaFixture db, ITestOutputHelper output) : IClassFixture<SchemaFixture>
{
    // Far above the 1-second limits under test: only an unbounded wait can reach it.
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task With_every_pooled_connection_held_each_operation_fails_after_the_pool_timeout_naming_itself()
    {
        await using (await db.JournalAsync("pool_events"))
        await using (await db.StateAsync("pool_state"))
        await using (await db.LeasesAsync("pool_subs"))
        {
        }

        var builder = new NpgsqlConnectionStringBuilder(db.ConnectionString) { MaxPoolSize = 2, Timeout = 1 };
        await using var dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        await using var journal = new JournalStore(new JournalStoreOptions { DataSource = dataSource, Schema = db.Name, Table = "pool_events" });
        await using var state = new DurableStateStore(new DurableStateStoreOptions { DataSource = dataSource, Schema = db.Name, Table = "pool_state" });
        await using var leases = new LeaseStore(new LeaseStoreOptions { DataSource = dataSource, Schema = db.Name, Table = "pool_subs" });
        var held = new[] { await dataSource.OpenConnectionAsync(), await dataSource.OpenConnectionAsync() };

        var calls = new (string Operation, Func<Task> Call)[]
        {
            ("Commit to stream 'x'", () => journal.CommitAsync("x", Events.Many(3))),
            ("Commit to stream 'x'", () => journal.CommitAsync("x", Events.Many(1))),
            ("Loading stream 'x'", () => journal.LoadAsync("x").ToListAsync()),
            ("Query of the journal", () => journal.QueryAsync(new JournalQuery()).ToListAsync()),
            ("Writing state 'p'", () => state.UpsertAsync("p", 0, "{}")),
            ("Loading state 'p'", () => state.LoadAsync("p")),
            ("Claim", () => leases.ClaimAsync(1, 0, "h", TimeSpan.FromMinutes(1))),
            ("Subscribe", () => leases.SubscribeAsync([new Subscription("t")])),
            ($"Seed of {journal.QualifiedTable}", () => journal.SeedAsync()),
        };
        // All at once: each waits for a connection on its own.
        var errors = await Task.WhenAll(calls.Select(c => Assert.ThrowsAsync<StoreOperationException>(() => c.Call().WaitAsync(Bound))));
        foreach (var ((operation, _), error) in calls.Zip(errors))
        {
            Assert.StartsWith(operation + " failed", error.Message);
            Assert.Contains("pool", error.Message, StringComparison.OrdinalIgnoreCase);
            Assert.True(error.IsTransient, $"{operation}: an exhausted pool is worth a retry");
        }

        foreach (var connection in held)
        {
            await connection.DisposeAsync();
        }

        // Nothing was written meanwhile, and the same stores work once connections are free.
        Assert.Equal(0, await db.CountAsync("pool_events"));
        Assert.Equal(0, await db.CountAsync("pool_state"));
        Assert.Equal(0, await db.CountAsync("pool_subs"));
        Assert.Equal(3, (await journal.CommitAsync("x", Events.Many(3))).Count);
        Assert.Equal(1, await state.UpsertAsync("p", 0, "{}"));
    }

    [Theory]
    [InlineData(false)] // the statement is prepared on the connection first: the prepare waits (Npgsql leaves it unbounded)
    [InlineData(true)] // already prepared: the execution waits
    public async Task A_commit_waiting_past_the_command_timeout_is_cancelled_naming_the_operation_and_writes_nothing(bool prepared)
    {
        var table = prepared ? "slow_prepared" : "slow_events";
        await using var journal = await db.JournalAsync(table, o =>
        {
            o.ConnectionString = new NpgsqlConnectionStringBuilder(db.ConnectionString) { MaxPoolSize = 1 }.ConnectionString;
            o.CommandTimeout = TimeSpan.FromSeconds(1);
        });
        if (prepared)
        {
            await journal.CommitAsync("warm", Events.Many(3));
        }

        var before = await db.CountAsync(table);
        await using var locker = await LockTablesAsync(table);

        var error = await Assert.ThrowsAsync<StoreOperationException>(() => journal.CommitAsync("slow", Events.Many(3)).WaitAsync(Bound));
        output.WriteLine(error.Message);
        await locker.DisposeAsync();

        Assert.StartsWith("Commit to stream 'slow' failed", error.Message);
        Assert.Contains("Timeout", error.Message); // the cause, not only Npgsql's generic "Exception while reading"
        Assert.True(error.IsTransient);
        Assert.Equal(before, await db.CountAsync(table));
        Assert.Equal(3, (await journal.CommitAsync("slow", Events.Many(3))).Count);
    }

    [Fact]
    public async Task Writes_waiting_on_a_lock_past_the_command_timeout_fail_naming_the_operation_and_change_nothing()
    {
        var oneSecond = TimeSpan.FromSeconds(1);
        await using var state = await db.StateAsync("locked_state");
        await using var leases = await db.LeasesAsync("locked_subs");
        await using var quickState = new DurableStateStore(new DurableStateStoreOptions
            { ConnectionString = db.ConnectionString, Schema = db.Name, Table = "locked_state", CommandTimeout = oneSecond });
        await using var quickLeases = new LeaseStore(new LeaseStoreOptions
            { ConnectionString = db.ConnectionString, Schema = db.Name, Table = "locked_subs", CommandTimeout = oneSecond });
        await state.UpsertAsync("p", 0, """{"v":1}""");
        await leases.RaiseWorkAsync([new WorkMark(new Subscription("t"), 10)]);
        var lease = Assert.Single(await leases.ClaimAsync(1, 0, "h", TimeSpan.FromMinutes(1)));

        await using var locker = await LockTablesAsync("locked_state", "locked_subs");

        var upserting = Assert.ThrowsAsync<StoreOperationException>(() => quickState.UpsertAsync("p", 1, """{"v":2}""").WaitAsync(Bound));
        var deleting = Assert.ThrowsAsync<StoreOperationException>(() => quickState.DeleteAsync("p").WaitAsync(Bound));
        var acking = Assert.ThrowsAsync<StoreOperationException>(() => quickLeases.AckAsync([new LeaseOutcome("t", "h", 10)]).WaitAsync(Bound));
        var (upsert, delete, ack) = (await upserting, await deleting, await acking);
        await locker.DisposeAsync();

        Assert.StartsWith("Writing state 'p' failed", upsert.Message);
        Assert.StartsWith("Deleting state 'p' failed", delete.Message);
        Assert.StartsWith("Ack failed", ack.Message);
        Assert.All(new[] { upsert, delete, ack }, e => Assert.Contains("Timeout", e.Message));
        var stored = await state.LoadAsync("p");
        Assert.Equal((1L, """{"v": 1}"""), (stored!.Revision, stored.Json));
        var subscription = Assert.Single(await leases.QueryStreamsAsync(SubscriptionFilter.ForStreams("t")));
        Assert.Equal((-1L, "h"), (subscription.At, subscription.Holder));
        Assert.Single((await quickLeases.AckAsync([new LeaseOutcome("t", lease.Holder, 10)])).Applied);
    }

    /// <summary>
    /// Another session holds the tables in SHARE mode, so every write waits. A table lock takes no transaction id:
    /// a row lock would, and would hold back the settled feed of every class sharing the server.
    /// </summary>
    private async Task<Locker> LockTablesAsync(params string[] tables)
    {
        var connection = await db.Schema.DataSource.OpenConnectionAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using var command = new NpgsqlCommand(
            $"LOCK TABLE {string.Join(", ", tables.Select(t => $"\"{db.Name}\".\"{t}\""))} IN SHARE MODE", connection, transaction);
        await command.ExecuteNonQueryAsync();
        return new Locker(connection, transaction);
    }

    private sealed class Locker(NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
    {
        private bool _released;

        public async ValueTask DisposeAsync()
        {
            if (!_released)
            {
                _released = true;
                await transaction.RollbackAsync();
                await connection.DisposeAsync();
            }
        }
    }
}
