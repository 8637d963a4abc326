using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;
using Orleans.Hosting;
using OrleansPgStore.Reactions;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Reactions;
using OrleansPgStore.Testing;

namespace OrleansPgStore.Tests.Reactions;

/// <summary>Transactional projections registered on <c>AddPostgresJournal</c>, run by the worker grains, and their rebuild.</summary>
public sealed class PostgresProjectionTests : IAsyncLifetime
{
    private PostgresTestSchema _schema = null!;

    public async ValueTask InitializeAsync() => _schema = await PostgresTestSchema.CreateAsync("projections");

    public async ValueTask DisposeAsync() => await _schema.DisposeAsync();

    [Fact]
    public async Task Projections_on_the_silo_builder_land_each_event_once_and_rebuild_with_progress()
    {
        // No key on the read model: a duplicate effect would be a second row.
        var model = $"\"{_schema.Name}\".model";
        var withdrawals = $"\"{_schema.Name}\".withdrawals";
        await _schema.ExecuteAsync($"CREATE TABLE {model} (position bigint NOT NULL, stream text NOT NULL)");
        await _schema.ExecuteAsync($"CREATE TABLE {withdrawals} (position bigint NOT NULL, stream text NOT NULL)");
        await using var cluster = TestClusters.Build(
            _schema.ConnectionString,
            _schema.Name,
            configure: options =>
            {
                options.Reactions.Workers = 2;
                options.Reactions.Worker.PageSize = 3;
                options.Reactions.Worker.PollInterval = TimeSpan.FromMilliseconds(100);
                options.Reactions.Project(
                    ["Deposited"],
                    async (batch, _, ct) =>
                    {
                        var events = batch.Events.ToList();
                        await using var command = batch.CreateCommand($"INSERT INTO {model} SELECT * FROM unnest($1::bigint[], $2::text[])");
                        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint, Value = events.Select(e => e.Position).ToArray() });
                        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = events.Select(e => e.Stream).ToArray() });
                        await command.ExecuteNonQueryAsync(ct);
                    },
                    async (transaction, _, ct) =>
                    {
                        await using var command = transaction.CreateCommand($"DELETE FROM {model}");
                        await command.ExecuteNonQueryAsync(ct);
                    });
                // The per-event shape: one INSERT per event, queued and sent with the cycle's batch, in the same transaction.
                options.Reactions.ProjectEach(
                    ["Withdrawn"],
                    (e, transaction, _, _) =>
                    {
                        var command = transaction.Queue($"INSERT INTO {withdrawals} VALUES ($1, $2)");
                        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = e.Position });
                        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = e.Stream });
                        return Task.CompletedTask;
                    },
                    async (transaction, _, ct) =>
                    {
                        await using var command = transaction.CreateCommand($"DELETE FROM {withdrawals}");
                        await command.ExecuteNonQueryAsync(ct);
                    });
            },
            configureSilo: silo => silo.UseInMemoryReminderService());
        await cluster.DeployAsync();
        await using var journal = new JournalStore(new JournalStoreOptions { ConnectionString = _schema.ConnectionString, Schema = _schema.Name });
        var committed = new List<RecordedEvent>();
        for (var s = 0; s < 10; s++)
        {
            committed.AddRange(await journal.CommitAsync($"account/{s}", Enumerable.Range(0, 7).Select(i => new EventData(i % 3 == 2 ? "Withdrawn" : "Deposited", "{}")).ToList()));
        }

        var deposits = committed.Where(e => e.Name == "Deposited").ToList();
        var withdrawn = committed.Where(e => e.Name == "Withdrawn").ToList();
        await WaitForRowsAsync(model, deposits.Count);
        await WaitForRowsAsync(withdrawals, withdrawn.Count);
        await AssertExactlyOnceAsync(model, deposits);
        await AssertExactlyOnceAsync(withdrawals, withdrawn);

        var reactions = cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<PostgresReactions>(TestClusters.Provider);
        var reports = new List<RebuildProgress>();
        var final = await reactions.RebuildAsync(progress: new SynchronousProgress(reports.Add));

        Assert.Equal(new RebuildProgress(committed.Count, committed.Count, 10), final);
        Assert.Equal(0, reports[0].Done);
        await AssertExactlyOnceAsync(model, deposits);
        await AssertExactlyOnceAsync(withdrawals, withdrawn);
    }

    private async Task WaitForRowsAsync(string model, long count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (await _schema.ScalarAsync<long>($"SELECT count(*) FROM {model}") < count)
        {
            Assert.True(DateTime.UtcNow < deadline, "the projection never caught up");
            await Task.Delay(50);
        }
    }

    private async Task AssertExactlyOnceAsync(string model, IEnumerable<RecordedEvent> committed)
    {
        await using var command = _schema.DataSource.CreateCommand($"SELECT position FROM {model} ORDER BY position");
        await using var reader = await command.ExecuteReaderAsync();
        var positions = new List<long>();
        while (await reader.ReadAsync())
        {
            positions.Add(reader.GetInt64(0));
        }

        Assert.Equal(committed.Select(e => e.Position).Order(), positions);
    }

    private sealed class SynchronousProgress(Action<RebuildProgress> report) : IProgress<RebuildProgress>
    {
        public void Report(RebuildProgress value) => report(value);
    }
}
