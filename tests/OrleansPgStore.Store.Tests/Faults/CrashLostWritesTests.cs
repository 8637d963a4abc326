using Npgsql;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.Reactions;
using OrleansPgStore.Store.Tests.Support;
using OrleansPgStore.Testing;

namespace OrleansPgStore.Store.Tests.Faults;

/// <summary>
/// A server crash (<c>pg_ctl -m immediate</c>) loses the reaction loop's last asynchronous lease writes while earlier
/// ones survive: the loop was told its writes committed, and its picture of the subscriptions is now ahead of the
/// database's. It must neither stall (a lease it still holds, a cached checkpoint) nor skip anything.
/// </summary>
/// <remarks>
/// Deterministic: the WAL writer sleeps 10 s, so asynchronous commits stay in memory until a durable commit writes the
/// WAL up to itself. A durable insert on another connection then decides exactly which writes survive the crash. Leases
/// are realistic (30 s), and the loop gets a bounded number of cycles, far fewer than it runs in a lease's lifetime.
/// Each case runs with pooled connections (the loop finds dead ones after the crash) and without (it sees no failure at
/// all: the hardest case). The class starts a cluster of its own: the shared one must never go down.
/// </remarks>
public sealed class CrashLostWritesTests : IAsyncLifetime
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    // Cycles the loop gets after the restart: a few fail on dead connections, the rest must do the work. Thirty cycles
    // take well under a second here, against a 30 s lease.
    private const int Cycles = 30;

    private PrivatePostgresCluster? _cluster;
    private int _tables;

    public async ValueTask InitializeAsync()
    {
        _cluster = await PrivatePostgresCluster.StartAsync();
        await using var connection = new NpgsqlConnection(_cluster.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("ALTER SYSTEM SET wal_writer_delay = '10s'; SELECT pg_reload_conf();", connection);
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_projection_commit_lost_in_a_crash_is_redone_at_once_by_the_loop_that_still_holds_its_lease(bool pooling)
    {
        var (journal, leases, model, name) = await SetUpAsync(pooling);
        await using var _j = journal;
        await using var _l = leases;
        var committed = await journal.CommitAsync("s", Events.Many(10));
        var flushes = 0;
        var registry = new ReactionRegistry().Project(["Happened"], async (batch, ct) =>
        {
            await model.Apply("loop")(batch, ct);
            // Makes the claim (and everything before it) durable; this transaction's commit stays in memory.
            if (Interlocked.Increment(ref flushes) == 1)
            {
                await FlushAsync(name);
            }
        });
        var loop = new ReactionLoop(journal, leases, registry, Options(name));
        Assert.Equal(10, await CycleUntilHandledAsync(loop));

        await _cluster!.CrashRestartAsync();

        // The crash lost the projection's commit (rows and ack together) but not the claim: the loop still holds the lease.
        Assert.Equal(0, await CountAsync($"SELECT count(*) FROM {model.Table}"));
        var state = await TargetAsync(name, "s");
        Assert.Equal((-1L, loop.Holder), (state.At, state.Holder));

        // Without waiting for that lease to run out, the same loop projects the events again, exactly once.
        var cycles = await CyclesUntilAsync(loop, async () => await CountAsync($"SELECT count(*) FROM {model.Table}") == 10);
        Assert.True(cycles <= Cycles, $"the events were not projected again within {Cycles} cycles (the lease lasts {Lease})");
        Assert.Equal(committed.Select(e => e.Position), await PositionsAsync(model));
        Assert.Equal(committed[^1].Position, (await TargetAsync(name, "s")).At);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_discovery_checkpoint_advance_lost_in_a_crash_is_read_again_and_no_target_is_skipped(bool pooling)
    {
        var (journal, leases, model, name) = await SetUpAsync(pooling);
        await using var _j = journal;
        await using var _l = leases;
        var registry = new ReactionRegistry().Project(["Happened"], model.Apply("loop"));
        var loop = new ReactionLoop(journal, leases, registry, Options(name));

        // The checkpoint exists durably; then "s" is committed durably and discovered, but not durably.
        await loop.CorrelateAsync();
        var first = await journal.CommitAsync("s", Events.Many(10));
        await FlushAsync(name);
        while (await loop.CorrelateAsync() == 0)
        {
            await Task.Delay(10); // the feed settles
        }

        await _cluster!.CrashRestartAsync();

        // The crash lost the advance and the work mark of "s" that came with it.
        Assert.Equal(0, await CountAsync($"SELECT count(*) FROM \"{name}\".subs "));

        // A later event of another stream makes discovery write again: from where the checkpoint really is, so "s" is
        // found too (reading on from the loop's cached position would move the checkpoint past "s" for good).
        await using var writer = new JournalStore(new JournalStoreOptions { ConnectionString = _cluster.ConnectionString + ";Pooling=false", Schema = name });
        var second = await writer.CommitAsync("t", Events.Many(1));
        await FlushAsync(name);
        var cycles = await CyclesUntilAsync(loop, async () => await CountAsync($"SELECT count(*) FROM {model.Table}") == 11);
        Assert.True(cycles <= Cycles, $"not every event was projected within {Cycles} cycles");
        Assert.Equal(first.Concat(second).Select(e => e.Position), await PositionsAsync(model));
    }

    private ReactionOptions Options(string name) => new()
    {
        Name = name,
        LeaseDuration = Lease,
        PollInterval = TimeSpan.FromMilliseconds(20),
        Backoff = new RetryBackoff { Kind = RetryBackoff.Curve.Fixed, Initial = TimeSpan.Zero, Jitter = 0 },
    };

    private async Task<(JournalStore Journal, LeaseStore Leases, ReadModel Model, string Schema)> SetUpAsync(bool pooling)
    {
        var name = $"crash{Interlocked.Increment(ref _tables)}";
        var cs = _cluster!.ConnectionString + (pooling ? "" : ";Pooling=false");
        var journal = new JournalStore(new JournalStoreOptions { ConnectionString = cs, Schema = name });
        var leases = new LeaseStore(new LeaseStoreOptions { ConnectionString = cs, Schema = name, Table = "subs" });
        await journal.SeedAsync();
        await leases.SeedAsync();
        await ExecuteAsync($"CREATE TABLE \"{name}\".flushes (at timestamptz NOT NULL DEFAULT now())");
        var model = await ReadModel.CreateAsync(NpgsqlDataSource.Create(cs + ";Pooling=false"), name, "model");
        await FlushAsync(name);
        return (journal, leases, model, name);
    }

    /// <summary>A durable commit on a connection of its own: it writes the WAL out up to itself, earlier asynchronous commits included.</summary>
    private Task FlushAsync(string schema)
        => ExecuteAsync($"SET synchronous_commit = on; INSERT INTO \"{schema}\".flushes DEFAULT VALUES");

    private static async Task<int> CycleUntilHandledAsync(ReactionLoop loop)
    {
        for (var i = 0; i < 1000; i++)
        {
            var result = await loop.RunCycleAsync();
            if (result.Handled > 0)
            {
                return result.Handled;
            }

            await Task.Delay(10);
        }

        throw new InvalidOperationException("the loop never handled the events");
    }

    /// <summary>Runs cycles (a failed one counts too) until <paramref name="done"/>; returns how many it took, or more than <see cref="Cycles"/>.</summary>
    private static async Task<int> CyclesUntilAsync(ReactionLoop loop, Func<Task<bool>> done)
    {
        for (var cycle = 1; cycle <= Cycles; cycle++)
        {
            try
            {
                await loop.RunCycleAsync();
            }
            catch (Exception)
            {
                // The first statements after the crash may meet dead connections.
            }

            if (await done())
            {
                return cycle;
            }
        }

        return Cycles + 1;
    }

    private async Task<SubscriptionState> TargetAsync(string schema, string stream)
    {
        await using var leases = new LeaseStore(new LeaseStoreOptions
        {
            ConnectionString = _cluster!.ConnectionString + ";Pooling=false", Schema = schema, Table = "subs",
        });
        return Assert.Single(await leases.QueryStreamsAsync(SubscriptionFilter.ForStreams(stream)));
    }

    private async Task<List<long>> PositionsAsync(ReadModel model)
    {
        await using var connection = new NpgsqlConnection(_cluster!.ConnectionString + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT position FROM {model.Table} ORDER BY position", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var positions = new List<long>();
        while (await reader.ReadAsync())
        {
            positions.Add(reader.GetInt64(0));
        }

        return positions;
    }

    private async Task<long> CountAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_cluster!.ConnectionString + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_cluster!.ConnectionString + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
