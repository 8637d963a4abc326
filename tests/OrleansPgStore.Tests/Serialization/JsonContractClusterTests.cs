using OrleansPgStore.Store;
using Microsoft.Extensions.DependencyInjection;
using OrleansPgStore.Hosting;
using OrleansPgStore.Serialization;
using OrleansPgStore.Store.Journal;
using OrleansPgStore.Testing;
using OrleansPgStore.Tests.Grains;

namespace OrleansPgStore.Tests.Serialization;

/// <summary>The JSON contract on a real cluster and database: every member survives, evolution is explicit.</summary>
public sealed class JsonContractClusterTests
{
    [Fact]
    public async Task Id_fields_round_trip_through_events_snapshots_and_grain_states()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("contract");
        await using var cluster = TestClusters.Build(
            schema.ConnectionString, schema.Name, silos: 1, configure: o => o.SnapshotIntervals["fieldlog"] = 2);
        await cluster.DeployAsync();
        var log = cluster.Client.GetGrain<IFieldLogGrain>(7);
        await log.SetA(41);
        await log.SetA(42);
        await log.SetA(43);
        var states = cluster.Client.GetGrain<IFieldStateGrain>("f");
        await states.Set(1, 2, "r");

        await cluster.DeactivateAsync(log);
        await cluster.DeactivateAsync(states);

        Assert.Equal((43, 3), await log.Get());
        Assert.Equal([41, 42, 43], await log.History());
        Assert.Equal("""{"val": 41}""", await schema.ScalarAsync<string>(
            $"SELECT data::text FROM \"{schema.Name}\".events WHERE stream = 'fieldlog/7' AND version = 0 AND NOT snapshot"));
        // Snapshots hold the state in Orleans' serialization (see SnapshotFidelityTests); the reload above read one.
        Assert.Equal("orleans", await schema.ScalarAsync<string>(
            $"SELECT data->>'format' FROM \"{schema.Name}\".events WHERE stream = 'fieldlog/7' AND snapshot"));
        var state = await states.Get();
        Assert.Equal((1, 2, 3), (state.A, state.B, state.Reservations["r"]));
    }

    [Fact]
    public async Task A_renamed_property_fails_the_activation_without_an_upcaster_and_reads_with_one()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("contract");
        const string stream = "account/renamed";
        await using (var strict = TestClusters.Build(schema.ConnectionString, schema.Name, silos: 1))
        {
            await strict.DeployAsync();
            var journal = strict.Silos[0].ServiceProvider.GetRequiredKeyedService<PgStore>(TestClusters.Provider).Journal;
            // What a renamed property leaves behind: three stored deposits whose amount is under its old name.
            await journal.CommitAsync(stream, Enumerable.Range(0, 3)
                .Select(i => new EventData("test.deposited", $$"""{"amt": 10, "memo": "m{{i}}"}""")).ToList());

            var error = await Assert.ThrowsAnyAsync<Exception>(() => strict.Client.GetGrain<IAccountGrain>("renamed").Get());
            foreach (var part in new[] { $"stream '{stream}'", "version 0", "'test.deposited'", "amt" })
            {
                Assert.Contains(part, error.Message, StringComparison.Ordinal);
            }
        }

        await using var evolved = TestClusters.Build(schema.ConnectionString, schema.Name, silos: 1, configure: o =>
            o.Upcasters.Add("test.deposited", payload =>
            {
                if (payload.Remove("amt", out var amount))
                {
                    payload["amount"] = amount;
                }

                return payload;
            }));
        await evolved.DeployAsync();
        var account = evolved.Client.GetGrain<IAccountGrain>("renamed");
        var view = await account.Get();
        Assert.Equal((30m, 3), (view.Balance, view.Version));
        Assert.Equal(new Deposited(10, "m1"), Assert.Single(await account.History(1, 2)));

        // Queries read through the same serializer, upcasters included.
        var events = evolved.Silos[0].ServiceProvider.GetRequiredKeyedService<JournalEventSerializer>(TestClusters.Provider);
        var journal2 = evolved.Silos[0].ServiceProvider.GetRequiredKeyedService<PgStore>(TestClusters.Provider).Journal;
        var amounts = new List<decimal>();
        await foreach (var e in journal2.QueryAsync(new JournalQuery { Stream = stream, Names = ["test.deposited"] }))
        {
            amounts.Add(((Deposited)events.Deserialize<AccountEvent>(e)).Amount);
        }

        Assert.Equal([10m, 10m, 10m], amounts);
    }

    [Fact]
    public async Task An_event_type_that_cannot_be_stored_fails_the_write_naming_grain_stream_and_type()
    {
        await using var schema = await PostgresTestSchema.CreateAsync("contract");
        await using var cluster = TestClusters.Build(schema.ConnectionString, schema.Name, silos: 1);
        await cluster.DeployAsync();
        var grain = cluster.Client.GetGrain<IUnstorableGrain>(1);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => grain.Raise());

        foreach (var part in new[] { "unstorable/1", typeof(Untyped).FullName!, "payload" })
        {
            Assert.Contains(part, error.Message, StringComparison.Ordinal);
        }

        Assert.Equal(0L, await schema.ScalarAsync<long>($"SELECT count(*) FROM \"{schema.Name}\".events"));
    }
}
