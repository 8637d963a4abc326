using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Hosting;
using OrleansPgStore.Options;
using OrleansPgStore.Reactions;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Store.Leasing;
using OrleansPgStore.Store.Reactions;
using OrleansPgStore.Testing;

namespace OrleansPgStore.Tests.Reactions;

/// <summary>Reactions in lanes of their own on <c>AddPostgresJournal</c>: every lane with a reaction gets workers, and rebuilds per lane.</summary>
public sealed class ReactionLaneTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private static readonly string[] Lanes = ["", "audit"];
    private PostgresTestSchema _schema = null!;

    public async ValueTask InitializeAsync() => _schema = await PostgresTestSchema.CreateAsync("lanes");

    public async ValueTask DisposeAsync() => await _schema.DisposeAsync();

    [Fact]
    public async Task Two_lanes_both_handle_their_events_and_each_rebuilds_alone()
    {
        // Keyed by lane and position: a second effect of one event in one lane fails its projection.
        var model = $"\"{_schema.Name}\".lane_model";
        await _schema.ExecuteAsync($"CREATE TABLE {model} (lane text NOT NULL, position bigint NOT NULL, PRIMARY KEY (lane, position))");
        await using var cluster = TestClusters.Build(
            _schema.ConnectionString,
            _schema.Name,
            configure: options =>
            {
                options.Reactions.Workers = 1;
                options.Reactions.Worker.PageSize = 3;
                options.Reactions.Worker.PollInterval = TimeSpan.FromMilliseconds(100);
                foreach (var lane in Lanes)
                {
                    options.Reactions.ProjectEach(
                        ["Deposited"],
                        async (e, transaction, _, ct) =>
                        {
                            await using var command = transaction.CreateCommand($"INSERT INTO {model} VALUES ($1, $2)");
                            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = lane });
                            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = e.Position });
                            await command.ExecuteNonQueryAsync(ct);
                        },
                        async (transaction, _, ct) =>
                        {
                            await using var command = transaction.CreateCommand($"DELETE FROM {model} WHERE lane = $1");
                            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = lane });
                            await command.ExecuteNonQueryAsync(ct);
                        },
                        // Each lane has targets of its own: a target belongs to one lane.
                        target: lane.Length == 0 ? null : e => new ReactionTarget($"{lane}/{e.Stream}", e.Stream),
                        lane: lane);
                }
            },
            configureSilo: silo => silo.UseInMemoryReminderService());
        await cluster.DeployAsync();
        await using var journal = new JournalStore(new JournalStoreOptions { ConnectionString = _schema.ConnectionString, Schema = _schema.Name });
        var committed = new List<RecordedEvent>();
        for (var s = 0; s < 10; s++)
        {
            committed.AddRange(await journal.CommitAsync($"account/{s}", Enumerable.Range(0, 4).Select(_ => new EventData("Deposited", "{}")).ToList()));
        }

        foreach (var lane in Lanes)
        {
            await WaitForRowsAsync(lane, committed.Count);
        }

        await AssertExactlyOnceInEveryLaneAsync(model, committed);
        await using var leases = new LeaseStore(new LeaseStoreOptions { ConnectionString = _schema.ConnectionString, Schema = _schema.Name });
        foreach (var lane in Lanes)
        {
            Assert.Equal(10, (await leases.QueryStreamsAsync(new SubscriptionFilter { Lane = lane }, limit: 100)).Count);
        }

        // One worker per lane, spread: the two lanes' workers run on different silos.
        // Orleans places the workers and a silo short of its share pulls its own in: wait for it, then check.
        List<IReadOnlyList<string>> Holders() => cluster.Silos
            .Select(s => (IReadOnlyList<string>)s.ServiceProvider.GetRequiredKeyedService<PostgresReactions>(TestClusters.Provider).LocalHolders.ToList())
            .ToList();
        await Eventually.WaitAsync(() => Holders().All(h => h.Count == 1), "each silo runs one worker");
        var holders = Holders();
        Assert.All(holders, h => Assert.Single(h));
        Assert.Single(holders, h => h[0].Contains("/lane:audit/", StringComparison.Ordinal));

        // A lane's rebuild resets that lane's targets and read model only, and completes; the other lane keeps its effects.
        var reactions = cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<PostgresReactions>(TestClusters.Provider);
        foreach (var lane in new[] { "audit", "" })
        {
            var rebuilt = await reactions.RebuildAsync(new SubscriptionFilter { Lane = lane }).WaitAsync(Patience);

            Assert.Equal(new RebuildProgress(committed.Count, committed.Count, 10), rebuilt);
            await AssertExactlyOnceInEveryLaneAsync(model, committed);
        }
    }

    [Fact]
    public void A_loop_lane_without_a_reaction_in_it_is_named_by_the_validator()
    {
        var options = new PostgresJournalOptions { ConnectionString = "Host=localhost" };
        options.Reactions.On("Deposited", (_, _, _) => Task.CompletedTask, lane: "audit");
        options.Reactions.Worker.Lane = "audti";

        Assert.Contains(PostgresOptionsValidator.Check(options), f => f.Contains("Reactions.Worker.Lane") && f.Contains("'audti'"));
        options.Reactions.Worker.Lane = "audit";
        Assert.Empty(PostgresOptionsValidator.Check(options));
    }

    [Theory]
    [InlineData("Postgres", "", 0, "Postgres/0")]
    [InlineData("Postgres", "audit", 3, "Postgres/3/lane:audit")]
    [InlineData("a/b", "x/1", 1, "a/b/1/lane:x%2F1")]
    [InlineData("p", "lane:7", 12, "p/12/lane:lane%3A7")]
    [InlineData("p/lane:q", "", 2, "p/lane:q/2")]
    public void Worker_keys_split_back_into_provider_lane_and_index(string provider, string lane, int index, string key)
    {
        var worker = new ReactionWorkerKey(provider, lane, index);

        Assert.Equal(key, worker.ToString());
        Assert.Equal(worker, ReactionWorkerKey.Parse(key));
    }

    private async Task WaitForRowsAsync(string lane, long count)
    {
        var deadline = DateTime.UtcNow + Patience;
        long rows;
        while ((rows = await _schema.ScalarAsync<long>($"SELECT count(*) FROM \"{_schema.Name}\".lane_model WHERE lane = '{lane}'")) < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"lane '{lane}' handled {rows} of {count} events");
            await Task.Delay(50);
        }
    }

    private async Task AssertExactlyOnceInEveryLaneAsync(string model, IReadOnlyList<RecordedEvent> committed)
    {
        foreach (var lane in Lanes)
        {
            await using var command = _schema.DataSource.CreateCommand($"SELECT position FROM {model} WHERE lane = $1 ORDER BY position");
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = lane });
            await using var reader = await command.ExecuteReaderAsync();
            var positions = new List<long>();
            while (await reader.ReadAsync())
            {
                positions.Add(reader.GetInt64(0));
            }

            Assert.Equal(committed.Select(e => e.Position).Order(), positions);
        }
    }
}
