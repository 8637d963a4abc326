using System.Collections.Concurrent;
using Npgsql;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Reactions;
using OrleansPgStore.Store.Tests.Support;

namespace OrleansPgStore.Store.Tests.Reactions;

/// <summary>
/// A cycle whose claim lost its candidates to another claim says so (<see cref="CycleResult.Contended"/>), and the
/// worker looks again in a moment instead of sleeping its poll interval while work is left: a second worker that
/// started at the same instant as the first used to sit out a whole drain.
/// </summary>
public sealed class ContendedClaimLoopTests(SchemaFixture db) : IClassFixture<SchemaFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_cycle_whose_candidates_another_transaction_holds_is_contended_and_one_with_nothing_to_do_is_not()
    {
        await using var journal = await db.JournalAsync("contended_events");
        await using var leases = await db.LeasesAsync("contended_subs");
        var registry = new ReactionRegistry().On("Happened", (_, _) => Task.CompletedTask);
        var loop = new ReactionLoop(journal, leases, registry);
        await journal.CommitAsync("s", Events.Many(3));
        await loop.CorrelateAsync();

        await using (var held = await HoldAsync("contended_subs", "s"))
        {
            var contended = await loop.RunCycleAsync();
            Assert.Equal((0, 0, true, true), (contended.Correlated, contended.Claimed, contended.Idle, contended.Contended));
        }

        var handled = await loop.RunCycleAsync();
        Assert.Equal((1, 3, false), (handled.Claimed, handled.Handled, handled.Contended));

        // Nothing left: idle and not contended (the negative control: an idle worker sleeps until woken or polled).
        var idle = await loop.RunCycleAsync();
        Assert.Equal((true, false), (idle.Idle, idle.Contended));
    }

    [Fact]
    public async Task A_worker_whose_claim_was_contended_takes_the_work_once_it_is_free_without_a_wake_up_or_a_poll()
    {
        await using var journal = await db.JournalAsync("contended_worker_events");
        await using var leases = await db.LeasesAsync("contended_worker_subs");
        var handled = new BlockingCollection<RecordedEvent>();
        var registry = new ReactionRegistry().On("Happened", (e, _) =>
        {
            handled.Add(e);
            return Task.CompletedTask;
        });
        // A poll interval far beyond the patience, and no commit after the worker starts: only looking again can deliver.
        var loop = new ReactionLoop(journal, leases, registry, new ReactionOptions { PollInterval = TimeSpan.FromHours(1) });
        await journal.CommitAsync("s", Events.Many(2));
        await loop.CorrelateAsync();

        await using var worker = new ReactionWorker(loop, journal);
        await using (var held = await HoldAsync("contended_worker_subs", "s"))
        {
            await worker.StartAsync();
            await Task.Delay(300); // let the worker meet the held target
        }

        Assert.True(handled.TryTake(out _, Patience));
        Assert.True(handled.TryTake(out _, Patience));
    }

    /// <summary>Holds the target's row in an open transaction, as a claim at the same instant does; disposing releases it.</summary>
    private async Task<IAsyncDisposable> HoldAsync(string table, string stream)
    {
        var connection = new NpgsqlConnection(db.ConnectionString);
        await connection.OpenAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using var hold = new NpgsqlCommand($"SELECT 1 FROM \"{db.Name}\".{table} WHERE stream = $1 FOR UPDATE", connection, transaction);
        hold.Parameters.AddWithValue(stream);
        await hold.ExecuteNonQueryAsync();
        return new Held(connection, transaction);
    }

    private sealed class Held(NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }
    }
}
